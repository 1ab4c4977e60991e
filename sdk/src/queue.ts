/**
 * A delivery queue for the server and React Native clients: payloads are posted to
 * /api/collect in batches; a batch that fails for a passing reason (network, 429, 5xx) is
 * retried with exponential backoff and, after the last retry, stays queued for the next flush.
 * A batch the server refuses outright (other 4xx) is dropped and reported: resending cannot help.
 */
import type { Payload } from "./tracker/core";

export interface QueueOptions {
  apiKey: string;
  apiUrl: string;
  /** Payloads per request, at most 500. Default 50. */
  batchSize?: number;
  /** Attempts after the first, per flush. Default 3. */
  maxRetries?: number;
  /** First backoff in ms, doubled each retry (and overridden by Retry-After). Default 500. */
  retryDelay?: number;
  /** Oldest payloads are dropped beyond this many. Default 10000. */
  maxQueue?: number;
  /** Called with undeliverable payloads and per-item refusals. Default: console.warn. */
  onError?: (error: Error, payloads: Payload[]) => void;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /**
   * The client's own User-Agent header, e.g. `pulse-analytics-node/1.0.0`. Sent only outside a
   * browser (a page cannot set it; there the browser's own is the visitor's).
   */
  userAgent?: string;
}

export class PulseError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "PulseError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Queue {
  items: Payload[] = [];
  private running: Promise<void> | null = null;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(readonly options: QueueOptions) {
    this.url = options.apiUrl.replace(/\/+$/, "") + "/api/collect";
    this.headers = { "Content-Type": "application/json", "X-Pulse-Key": options.apiKey };
    if (options.userAgent && typeof document === "undefined") this.headers["User-Agent"] = options.userAgent;
  }

  push(payload: Payload): void {
    this.items.push(payload);
    const excess = this.items.length - (this.options.maxQueue ?? 10000);
    if (excess > 0) this.items.splice(0, excess);
  }

  /** Deliver everything queued; concurrent calls share one run. Resolves true when the queue emptied. */
  flush(): Promise<boolean> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running.then(() => this.items.length == 0);
  }

  private async drain(): Promise<void> {
    const size = Math.min(this.options.batchSize ?? 50, 500);
    while (this.items.length) {
      const batch = this.items.slice(0, size);
      if (!(await this.post(batch))) return; // still failing: keep it for the next flush
      this.items.splice(0, batch.length);
    }
  }

  /** True when the batch is done with (delivered or refused for good). */
  private async post(batch: Payload[]): Promise<boolean> {
    const o = this.options;
    const report = o.onError ?? ((e: Error) => console.warn("[pulse]", e.message));
    let delay = o.retryDelay ?? 500;
    for (let attempt = 0; ; attempt++) {
      let retryAfter = 0;
      try {
        const response = await (o.fetch ?? fetch)(this.url, {
          method: "POST",
          headers: this.headers,
          body: JSON.stringify(batch),
        });
        if (response.ok) {
          const body = (await response.json().catch(() => ({}))) as { errors?: { index: number; error: string }[] };
          for (const e of body.errors ?? []) report(new PulseError(e.error, response.status), [batch[e.index]]);
          return true;
        }
        const text = await response.text().catch(() => "");
        if (response.status != 429 && response.status < 500) {
          report(new PulseError(`Pulse refused the batch (${response.status}): ${text}`, response.status), batch);
          return true;
        }
        retryAfter = Number(response.headers.get("retry-after")) * 1000 || 0;
        if (attempt >= (o.maxRetries ?? 3)) {
          report(new PulseError(`Pulse answered ${response.status}; kept for the next flush`, response.status), batch);
          return false;
        }
      } catch (error) {
        if (attempt >= (o.maxRetries ?? 3)) {
          report(new PulseError(`Pulse is unreachable (${(error as Error).message}); kept for the next flush`), batch);
          return false;
        }
      }
      await sleep(Math.max(delay, retryAfter));
      delay *= 2;
    }
  }
}
