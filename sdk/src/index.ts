/**
 * `PulseClient`: the browser tracker as a class, for sites that bundle their JavaScript.
 * It runs the same code as /api/script.js; optional features are loaded with dynamic
 * `import()`, so a bundler splits them out and only the ones turned on are downloaded.
 */
import { DEFAULT_API_URL, type PulseConfig } from "./config";
import { createTracker, eventFields, logFields, type Payload, type Tracker } from "./tracker/core";

export type { Payload, TrackerOptions } from "./tracker/core";

export { DEFAULT_API_URL, type PulseConfig } from "./config";

export interface SurveyResponse {
  survey_id: string;
  answers: { question_id: string; value: string | number | boolean | (string | number | boolean)[] }[];
  completed?: boolean;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export class PulseClient {
  /** The tracker, or null outside a browser (server rendering), where every method does nothing. */
  readonly tracker: Tracker | null;
  /** Resolves when the optional features turned on have loaded. */
  readonly ready: Promise<void>;

  constructor(readonly config: PulseConfig) {
    if (typeof window == "undefined" || typeof document == "undefined") {
      this.tracker = null;
      this.ready = Promise.resolve();
      return;
    }
    const t = (this.tracker = createTracker({ ...config, apiUrl: config.apiUrl || DEFAULT_API_URL }));
    const c = config;
    const features = t.off
      ? []
      : [
          c.trackWebVitals && import("./features/vitals"),
          c.trackScrollDepth && import("./features/scroll"),
          c.trackOutlinks && import("./features/outlinks"),
          c.trackErrors && import("./features/errors"),
          c.trackClicks && import("./features/clicks"),
          c.trackSearch && import("./features/search"),
          c.replay && Math.random() < (c.replaySample ?? 1) && import("./features/replay"),
        ];
    this.ready = Promise.all(features.map((f) => f && f.then((m) => m.install(t)))).then(() => {});
  }

  private send(type: string, fields: Payload): void {
    this.tracker?.send(type, fields);
  }

  /** Record a pageview of the current location (also when it is the last one recorded). */
  pageview(): void {
    this.tracker?.page(true);
  }

  /** A custom event, optionally with revenue (the currency defaults to USD on the server). */
  event(name: string, data?: Payload, revenueAmount?: number, revenueCurrency?: string): void {
    this.send("event", eventFields(name, data, revenueAmount, revenueCurrency));
  }

  search(query: string, resultsCount?: number): void {
    this.send("search_query", { query, results_count: resultsCount });
  }

  log(level: LogLevel, message: string, data?: Payload): void {
    if (this.tracker) this.send("log", logFields(this.tracker.o, level, message, data));
  }

  surveyResponse(response: SurveyResponse): void {
    this.send("survey_response", response as unknown as Payload);
  }

  identify(userId: string, traits?: Payload): void {
    this.send("identify", { user_id: userId, traits });
  }

  /** Grant consent (sends what was held back) or withdraw it. */
  consent(granted: boolean): void {
    this.tracker?.consent(granted);
  }
}
