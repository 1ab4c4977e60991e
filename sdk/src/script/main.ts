/**
 * /api/script.js: reads the <script> tag's data attributes, starts the tracker, defines the global
 * `pulse()` (replaying calls queued before it loaded) and fetches each optional feature that a
 * data attribute turns on from /api/script/<feature>.js.
 */
import { createTracker, eventFields, logFields, type Payload } from "../tracker/core";

type Queued = { q?: IArguments[] };
const w = window as unknown as { pulse?: ((...a: any[]) => void) & Queued & { t?: unknown } };
const s = document.currentScript as HTMLScriptElement;
const attr = (k: string) => s.getAttribute("data-" + k);
const on = (k: string) => attr(k) == "true";

// A second copy of the tag on the page must not count everything twice.
if (!w.pulse?.t) {
  const t = createTracker({
    apiKey: attr("key") || "",
    // The reference's default is the hosted instance, which is where its script comes from:
    // defaulting to the script's own origin serves the hosted and self-hosted cases alike.
    apiUrl: attr("api") || new URL(s.src).origin,
    trackUtm: on("utm"),
    consentMode: attr("consent-mode") || undefined,
    consentGranted: attr("consent-granted") != "false",
    respectDnt: attr("dnt") != "false",
    release: attr("release") || undefined,
    environment: attr("environment") || undefined,
    searchParam: attr("search-param") || undefined,
    replayMask: attr("replay-mask") != "false",
  });

  const queued = w.pulse?.q || [];
  const pulse = (cmd: string, a?: any, b?: any, c?: any) => {
    if (cmd == "event") typeof a == "string" ? t.send("event", eventFields(a, b)) : t.send("event", a);
    else if (cmd == "search") t.send("search_query", typeof a == "string" ? { query: a, results_count: b } : a);
    else if (cmd == "log") t.send("log", logFields(t.o, a, b, c));
    else if (cmd == "survey_response") t.send("survey_response", a);
    else if (cmd == "identify") t.send("identify", typeof a == "string" ? { user_id: a, traits: b } : (a as Payload));
    else if (cmd == "pageview") t.page(true);
    else if (cmd == "consent") t.consent(a !== false);
  };
  w.pulse = Object.assign(pulse, { t });
  queued.forEach((args) => pulse(...(args as unknown as [string])));

  if (!t.off) {
    const load = (f: string) => {
      const el = document.createElement("script");
      el.src = s.src.replace(/\.js(\?.*)?$/, "/" + f + ".js");
      el.async = true;
      document.head.appendChild(el);
    };
    ["vitals", "scroll", "outlinks", "errors", "clicks", "search"].forEach((f) => on(f) && load(f));
    const sample = attr("replay-sample");
    if (on("replay") && Math.random() < (sample ? +sample : 1)) load("replay");
  }
}
