import type { TrackerOptions } from "./tracker/core";

export const DEFAULT_API_URL = "https://pulse.ayushojha.com";

export interface PulseConfig extends Omit<TrackerOptions, "apiUrl"> {
  /** Default https://pulse.ayushojha.com. */
  apiUrl?: string;
  trackWebVitals?: boolean;
  trackScrollDepth?: boolean;
  trackOutlinks?: boolean;
  trackErrors?: boolean;
  trackClicks?: boolean;
  trackSearch?: boolean;
  /** Record session replays with rrweb. */
  replay?: boolean;
  /** Share of page views to record, 0..1. Default 1. */
  replaySample?: number;
}

