/**
 * The browser tracker: the one implementation behind both the `/api/script.js` tag and
 * `PulseClient`. It sends pageviews (on load and on SPA navigation), custom events, logs,
 * searches, survey responses and identifies, and an engagement ping when a page is left or
 * hidden, so the time spent on a visit's last page counts in its duration.
 *
 * Everything here ships in the 2 KB core script, so it is written for size: no classes, few
 * property names, and optional features live in ../features, loaded only when turned on.
 */

export type Payload = Record<string, unknown>;

export interface TrackerOptions {
  /** The project's ingest key (`pa_live_...`). */
  apiKey: string;
  /** Where Pulse runs, e.g. `https://pulse.ayushojha.com`. */
  apiUrl: string;
  /** Send utm_* parameters; when false they are removed from the URLs sent. Default false. */
  trackUtm?: boolean;
  /** Sent as `consent_mode` with every payload. Default "analytics". */
  consentMode?: string;
  /** False holds every payload in memory until `consent(true)`. Default true. */
  consentGranted?: boolean;
  /** Send nothing when the browser asks not to be tracked (DNT or GPC). Default true. */
  respectDnt?: boolean;
  /** Attached to errors and logs. */
  release?: string;
  /** Attached to errors and logs. Default "production". */
  environment?: string;
  /** Send a pageview now and on every history / hash navigation. Default true. */
  autoPageviews?: boolean;
  /** Query parameter holding a site search (the search feature). Default "q". */
  searchParam?: string;
  /** Mask every form input in replays. Default true. */
  replayMask?: boolean;
}

export type Hook = "page" | "leave";

export interface Tracker {
  /** The options the tracker was made with. */
  o: TrackerOptions;
  /** The page every payload is attributed to: the URL (and hash route) of the last pageview. */
  p: Payload;
  /** True when nothing is ever sent (Do Not Track). */
  off: boolean;
  /** Queue one payload of a collect type; `big` payloads skip sendBeacon's 64 KB limit. */
  send(type: string, fields?: Payload, big?: boolean): void;
  /** Record a pageview of the current location unless it was the last one recorded. */
  page(force?: boolean): void;
  /** Grant (true) or withdraw (false) consent. */
  consent(granted: boolean): void;
  /** Run `fn` after each pageview ("page") or before the page is left or hidden ("leave"). */
  on(hook: Hook, fn: () => void): void;
}

export function createTracker(o: TrackerOptions): Tracker {
  const w = window, d = document, n = navigator as Navigator & { globalPrivacyControl?: boolean };
  const url = o.apiUrl.replace(/\/+$/, "") + "/api/collect?key=" + encodeURIComponent(o.apiKey);
  const hooks: Record<string, (() => void)[]> = { page: [], leave: [] };
  // Payloads waiting for consent; capped so a visitor who never answers costs bounded memory.
  let held: Payload[] | null = o.consentGranted === false ? [] : null;
  // `shown`/`since`: whether the page was visible at the last visibility change, and since when
  // its visible time is unreported.
  let last: string | undefined, shown = !d.hidden, since = Date.now(), referrer: string = d.referrer;

  const post = (p: Payload, big?: boolean) => {
    const data = JSON.stringify({ ...p, consent_granted: true });
    // A text/plain body needs no CORS preflight, and sendBeacon survives the page unloading.
    if (big || !n.sendBeacon?.(url, data)) fetch(url, { method: "POST", body: data, keepalive: data.length < 6e4 }).catch(() => {});
  };

  const t: Tracker = {
    o,
    p: {},
    off: o.respectDnt !== false && (n.doNotTrack == "1" || (w as any).doNotTrack == "1" || !!n.globalPrivacyControl),
    send(type, fields, big) {
      if (t.off) return;
      const p: Payload = { type, ...t.p, consent_mode: o.consentMode || "analytics", ...fields };
      if (held) held.length < 200 && held.push(p);
      else post(p, big);
    },
    page(force) {
      const l = location;
      // Hash routes ("#/about", "#!/about") are pages of their own; plain anchors are not.
      const route = /^#!?\//.test(l.hash) ? l.hash : "";
      let href = l.href;
      if (!o.trackUtm) {
        const u = new URL(href);
        [...u.searchParams.keys()].forEach((k) => /^utm_/.test(k) && u.searchParams.delete(k));
        href = u.href;
      }
      const key = href.replace(/#.*/, "") + route;
      if (key == last && !force) return;
      if (last) emit("leave");
      last = key;
      t.p = { url: href, ...(route && { path: l.pathname + route }) };
      t.send("pageview", { title: d.title, referrer, screen: screen.width + "x" + screen.height, language: n.language });
      referrer = href;
      emit("page");
    },
    consent(granted) {
      const q = held;
      held = granted ? null : [];
      if (granted && q) q.forEach((p) => post(p));
    },
    on(hook, fn) {
      hooks[hook].push(fn);
    },
  };

  const emit = (hook: Hook) => {
    if (hook == "leave") {
      // Pulse times the ping on arrival: it moves the session's end to now. Sent only when the
      // page was visible for a second since the last one, so hidden tabs don't stretch visits.
      const now = Date.now(), ms = shown ? now - since : 0;
      since = now;
      if (ms >= 1e3) t.send("engagement");
    }
    hooks[hook].forEach((f) => f());
  };

  d.addEventListener("visibilitychange", () => {
    if (d.hidden) emit("leave");
    else since = Date.now();
    shown = !d.hidden;
  });

  if (o.autoPageviews !== false) {
    const nav = () => t.page();
    for (const m of ["pushState", "replaceState"] as const) {
      const f = history[m];
      history[m] = function (this: History, ...a: Parameters<History["pushState"]>) {
        f.apply(this, a);
        nav();
      };
    }
    w.addEventListener("popstate", nav);
    w.addEventListener("hashchange", nav);
    t.page();
  }
  return t;
}

/** The payload of `pulse("event", ...)` / `client.event(...)`. */
export const eventFields = (name: string, data?: Payload, revenue?: number, currency?: string): Payload => ({
  name,
  data,
  revenue_amount: revenue,
  revenue_currency: currency,
});

/** The payload of a log line; the tracker's release and environment are attached. */
export const logFields = (o: TrackerOptions, level: string, message: string, body?: Payload): Payload => ({
  level,
  message,
  body,
  release: o.release,
  environment: o.environment || "production",
});
