import type { TrackerOptions } from "./tracker/core";

export const DEFAULT_API_URL = "https://pulse.ayushojha.com";

/** This package's version (package.json's; a test checks they agree). */
export const SDK_VERSION = "1.0.0";

/** The longest end-user agent Pulse accepts in a payload's `user_agent`. */
export const MAX_USER_AGENT = 512;

/** An end user's agent as a payload forwards it: cut to what Pulse accepts, absent when empty. */
export function forwardedAgent(ua: string | null | undefined): string | undefined {
  return ua ? ua.slice(0, MAX_USER_AGENT) : undefined;
}

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

