/** Vue 3: `app.use(createPulseVue({ config }))` provides one PulseClient; `usePulsePageview()` records views. */
import { getCurrentInstance, inject, onMounted, watch, type App, type InjectionKey } from "vue";
import { PulseClient, type PulseConfig } from "./index";

export { PulseClient } from "./index";
export type { PulseConfig } from "./index";

export const PULSE_KEY: InjectionKey<PulseClient> = Symbol("pulse");

export interface PulseVueOptions {
  /** Client options. Pageviews come from `usePulsePageview` unless `autoPageviews` is true. */
  config: PulseConfig;
  client?: PulseClient;
}

export function createPulseVue(options: PulseVueOptions) {
  return {
    install(app: App) {
      const client = options.client ?? new PulseClient({ autoPageviews: false, ...options.config });
      app.provide(PULSE_KEY, client);
      app.config.globalProperties.$pulse = client;
    },
  };
}

/** The installed client (null when the plugin is not installed). */
export function usePulse(): PulseClient | null {
  return getCurrentInstance() ? inject(PULSE_KEY, null) : null;
}

/**
 * Record a pageview when the calling component mounts, and again whenever `path()` changes
 * (pass `() => route.fullPath` with vue-router).
 */
export function usePulsePageview(path?: () => string): void {
  const client = usePulse();
  onMounted(() => client?.pageview());
  if (path) watch(path, () => client?.pageview());
}
