import assert from "node:assert/strict";
import { test } from "node:test";

test("outside a browser (server rendering) the client does nothing and does not throw", async () => {
  const { PulseClient } = await import("../dist/esm/index.js");
  const pulse = new PulseClient({ apiKey: "k", trackWebVitals: true });
  assert.equal(pulse.tracker, null);
  pulse.pageview();
  pulse.event("x", {}, 1, "USD");
  pulse.consent(true);
  await pulse.ready;
});

test("CommonJS entry points load with require()", async () => {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  for (const entry of ["", "/server", "/next", "/react-native", "/react", "/vue"]) {
    const mod = require("@ayushojha/pulse-analytics" + entry);
    assert.ok(Object.keys(mod).length > 0, entry);
  }
  assert.equal(typeof require("@ayushojha/pulse-analytics").PulseClient, "function");
});
