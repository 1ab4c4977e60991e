/** React: <PulseProvider config={...}> makes one PulseClient; `usePulsePageview()` records a page's view. */
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from "react";
import { PulseClient, type PulseConfig } from "./index";

export { PulseClient } from "./index";
export type { PulseConfig } from "./index";

const PulseContext = createContext<PulseClient | null>(null);

export interface PulseProviderProps {
  /** Client options. Pageviews come from `usePulsePageview` unless `autoPageviews` is true. */
  config: PulseConfig;
  /** An existing client to share instead of making one from `config`. */
  client?: PulseClient;
  children?: ReactNode;
}

export function PulseProvider({ config, client, children }: PulseProviderProps) {
  // Made once, during the first render, so children's effects (which run before the
  // provider's own) already see it.
  const [value] = useState(() => client ?? new PulseClient({ autoPageviews: false, ...config }));
  return createElement(PulseContext.Provider, { value }, children);
}

/** The provider's client (null outside a <PulseProvider>). */
export function usePulse(): PulseClient | null {
  return useContext(PulseContext);
}

/**
 * Record a pageview when the component mounts and whenever `path` changes. Without `path`
 * the current location is used, so a router re-rendering the page on navigation records it.
 */
export function usePulsePageview(path?: string): void {
  const client = useContext(PulseContext);
  const where = path ?? (typeof location == "undefined" ? "" : location.pathname + location.search + location.hash);
  useEffect(() => {
    client?.pageview();
  }, [client, where]);
}
