import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { installDom } from "./dom.mjs";

const require = createRequire(import.meta.url);

test("CommonJS: PulseClient requires a feature's own file only when it is turned on", async () => {
  const dom = installDom("https://site.test/find?q=shoes");
  const { PulseClient } = require("@ayushojha/pulse-analytics");
  const pulse = new PulseClient({ apiKey: "k", trackSearch: true });
  await pulse.ready;
  assert.deepEqual(dom.types(), ["pageview", "search_query"]);
  const loaded = Object.keys(require.cache).filter((p) => p.includes("/dist/cjs/features/"));
  assert.deepEqual(loaded.map((p) => p.split("/").at(-1)), ["search.cjs"]);
  // rrweb and web-vitals are not inside the entry points themselves.
  assert.ok(readFileSync(require.resolve("@ayushojha/pulse-analytics")).length < 20_000);
  dom.window.close();
});
