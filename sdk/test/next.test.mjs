import assert from "node:assert/strict";
import { test } from "node:test";
import { getPulseScriptProps } from "@ayushojha/pulse-analytics/next";

test("getPulseScriptProps: the script URL, strategy and data attributes of the options given", () => {
  assert.deepEqual(
    getPulseScriptProps({ apiKey: "pa_live_x", apiUrl: "https://pulse.example/", trackWebVitals: true,
      replaySample: 0.25, consentGranted: false, release: "2026.05.09", strategy: "lazyOnload" }),
    {
      src: "https://pulse.example/api/script.js", strategy: "lazyOnload", "data-key": "pa_live_x",
      "data-api": "https://pulse.example", "data-vitals": "true", "data-replay-sample": "0.25",
      "data-consent-granted": "false", "data-release": "2026.05.09",
    },
  );
  const defaults = getPulseScriptProps({ apiKey: "k" });
  assert.equal(defaults.src, "https://pulse.ayushojha.com/api/script.js");
  assert.equal(defaults.strategy, "afterInteractive");
});
