import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";
import { collector } from "./collector.mjs";
import { readFileSync } from "node:fs";
import { PulseServerClient, SERVER_USER_AGENT } from "@ayushojha/pulse-analytics/server";

test("batches payloads, with the key header, and sends a full batch at once", async () => {
  const c = await collector();
  const pulse = new PulseServerClient({ apiKey: "pa_k", apiUrl: c.url, batchSize: 2, flushInterval: 60_000 });
  await pulse.trackEvent({ visitorId: "visitor_123", eventName: "subscription_renewed", data: { mrr: 499 } });
  assert.equal(c.requests.length, 0);
  await pulse.trackEvent({ visitorId: "v2", eventName: "purchase", revenueAmount: 10, revenueCurrency: "EUR" });
  assert.equal(c.requests.length, 1);
  const [{ key, payload }] = c.requests;
  assert.equal(key, "pa_k");
  assert.equal(payload.length, 2);
  assert.deepEqual(Object.keys(payload[0]).sort(), ["data", "name", "timestamp", "type", "visitor_id"]);
  assert.deepEqual([payload[0].name, payload[0].visitor_id, payload[0].data], ["subscription_renewed", "visitor_123", { mrr: 499 }]);
  assert.deepEqual([payload[1].revenue_amount, payload[1].revenue_currency], [10, "EUR"]);
  assert.ok(Math.abs(payload[0].timestamp - Date.now()) < 5000);
  await pulse.trackPageview({ visitorId: "v3", path: "/api/docs" });
  assert.equal(await pulse.shutdown(), true);  // shutdown flushes the rest
  assert.equal(c.requests.length, 2);
  await assert.rejects(pulse.trackEvent({ visitorId: "v", eventName: "late" }), /shut down/);
  c.close();
});

test("retries 5xx and 429 with backoff, then delivers", async () => {
  const c = await collector([503, 429, 500]);
  const pulse = new PulseServerClient({ apiKey: "k", apiUrl: c.url, retryDelay: 5, flushInterval: 60_000 });
  await pulse.identify({ visitorId: "v", userId: "user_1", traits: { plan: "pro" } });
  assert.equal(await pulse.flush(), true);
  assert.equal(c.requests.length, 4);
  assert.deepEqual(c.requests[3].payload[0].traits, { plan: "pro" });
  await pulse.shutdown();
  c.close();
});

test("keeps a batch that still fails after its retries for the next flush", async () => {
  const c = await collector([503, 503]);
  const errors = [];
  const pulse = new PulseServerClient({ apiKey: "k", apiUrl: c.url, retryDelay: 1, maxRetries: 1,
    flushInterval: 60_000, onError: (e) => errors.push(e.message) });
  await pulse.log({ message: "disk almost full", level: "warn" });
  assert.equal(await pulse.flush(), false);
  assert.equal(pulse.pending, 1);
  assert.match(errors[0], /503; kept/);
  assert.equal(await pulse.flush(), true);
  assert.equal(pulse.pending, 0);
  assert.deepEqual([c.requests[2].payload[0].level, c.requests[2].payload[0].environment], ["warn", "production"]);
  await pulse.shutdown();
  c.close();
});

test("drops what the server refuses (4xx) and reports refused items", async () => {
  const c = await collector([400]);
  const errors = [];
  const pulse = new PulseServerClient({ apiKey: "k", apiUrl: c.url, flushInterval: 60_000,
    onError: (e, payloads) => errors.push([e.status, payloads.length]) });
  await pulse.track({ type: "event", visitor_id: "v", name: "a" });
  assert.equal(await pulse.flush(), true);
  await pulse.track({ type: "bogus", visitor_id: "v" });
  await pulse.track({ type: "event", visitor_id: "v", name: "b" });
  await pulse.flush();
  assert.deepEqual(errors, [[400, 1], [200, 1]]);
  assert.equal(c.requests.length, 2);
  await pulse.shutdown();
  c.close();
});

test("flushes on its own before the process exits", async () => {
  const c = await collector();
  const child = fileURLToPath(new URL("./server-exit.mjs", import.meta.url));
  await promisify(execFile)(process.execPath, [child, c.url]);
  assert.deepEqual(c.requests.map((r) => r.payload.map((p) => p.name)), [["exiting"]]);
  c.close();
});

test("sends its own user agent and forwards the end user's, cut to 512 characters", async () => {
  const c = await collector();
  const pulse = new PulseServerClient({ apiKey: "k", apiUrl: c.url, flushInterval: 60_000 });
  const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
  await pulse.trackPageview({ visitorId: "v", path: "/", userAgent: iphone });
  await pulse.trackEvent({ visitorId: "v", eventName: "long", userAgent: "x".repeat(600) });
  await pulse.trackEvent({ visitorId: "v", eventName: "none" });
  await pulse.shutdown();
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(SERVER_USER_AGENT, `pulse-analytics-node/${version}`);
  assert.equal(c.requests[0].agent, SERVER_USER_AGENT);
  const [pageview, long, none] = c.requests[0].payload;
  assert.equal(pageview.user_agent, iphone);
  assert.equal(long.user_agent.length, 512);
  assert.equal("user_agent" in none, false);
  c.close();
});
