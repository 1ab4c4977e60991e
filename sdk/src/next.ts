/** Next.js: the props of a `next/script` <Script> that loads /api/script.js with its data attributes. */
import { DEFAULT_API_URL, type PulseConfig } from "./config";

export interface PulseScriptConfig extends Omit<PulseConfig, "autoPageviews" | "respectDnt"> {
  /** next/script loading strategy. Default "afterInteractive". */
  strategy?: "beforeInteractive" | "afterInteractive" | "lazyOnload" | "worker";
  /** Respect Do Not Track (data-dnt). Default true. */
  respectDnt?: boolean;
}

export type PulseScriptProps = { src: string; strategy: string } & Record<`data-${string}`, string>;

export function getPulseScriptProps(config: PulseScriptConfig): PulseScriptProps {
  const api = (config.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const props: PulseScriptProps = { src: api + "/api/script.js", strategy: config.strategy || "afterInteractive" };
  const attrs: [string, unknown][] = [
    ["key", config.apiKey],
    ["api", api],
    ["utm", config.trackUtm],
    ["vitals", config.trackWebVitals],
    ["scroll", config.trackScrollDepth],
    ["outlinks", config.trackOutlinks],
    ["errors", config.trackErrors],
    ["clicks", config.trackClicks],
    ["search", config.trackSearch],
    ["search-param", config.searchParam],
    ["replay", config.replay],
    ["replay-sample", config.replaySample],
    ["replay-mask", config.replayMask],
    ["consent-mode", config.consentMode],
    ["consent-granted", config.consentGranted],
    ["release", config.release],
    ["environment", config.environment],
    ["dnt", config.respectDnt],
  ];
  for (const [name, value] of attrs) if (value !== undefined && value !== "") props[`data-${name}`] = String(value);
  return props;
}
