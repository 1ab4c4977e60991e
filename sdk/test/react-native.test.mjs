import assert from "node:assert/strict";
import { test } from "node:test";
import { collector } from "./collector.mjs";
import { NATIVE_USER_AGENT, createPulseNative } from "@ayushojha/pulse-analytics/react-native";

class MemoryStorage {
  map = new Map();
  async getItem(k) { return this.map.get(k) ?? null; }
  async setItem(k, v) { this.map.set(k, v); }
}

test("screen, event and identify carry the visitor; offline they queue, survive a restart, then go out", async () => {
  const c = await collector();
  let online = false;
  const fetchWhenOnline = (url, init) => (online ? fetch(url, init) : Promise.reject(new TypeError("Network request failed")));
  const storage = new MemoryStorage();
  const config = { apiKey: "k", apiUrl: c.url, visitorId: "device_1", storage, fetch: fetchWhenOnline,
    onError: () => {} };

  const first = createPulseNative(config);
  await first.screen("Home");
  await first.event("purchase", { plan: "pro" }, 29.99, "USD");
  assert.equal(first.pending, 2);
  assert.equal(c.requests.length, 0);
  assert.equal(JSON.parse(storage.map.get("pulse:queue")).length, 2);

  const second = createPulseNative(config);  // the app restarts, still offline
  online = true;
  await second.identify("user_123", { plan: "pro" });
  assert.equal(second.pending, 0);
  assert.deepEqual(JSON.parse(storage.map.get("pulse:queue")), []);
  const sent = c.requests.flatMap((r) => r.payload);
  assert.deepEqual(sent.map((p) => [p.type, p.visitor_id]), [["screen", "device_1"], ["event", "device_1"], ["identify", "device_1"]]);
  assert.deepEqual([sent[0].name, sent[1].revenue_amount, sent[1].revenue_currency, sent[2].user_id], ["Home", 29.99, "USD", "user_123"]);
  assert.ok(sent[0].timestamp < sent[2].timestamp + 1);
  c.close();
});

test("sends its own user agent and forwards the device's with every payload", async () => {
  const c = await collector();
  const device = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Mobile";
  const pulse = createPulseNative({ apiKey: "k", apiUrl: c.url, visitorId: "d1", userAgent: device });
  await pulse.screen("Home");
  await pulse.event("tap");
  assert.match(NATIVE_USER_AGENT, /^pulse-analytics-react-native\/\d+\.\d+\.\d+$/);
  assert.deepEqual(c.requests.map((r) => r.agent), [NATIVE_USER_AGENT, NATIVE_USER_AGENT]);
  assert.deepEqual(c.requests.flatMap((r) => r.payload.map((p) => p.user_agent)), [device, device]);
  const plain = createPulseNative({ apiKey: "k", apiUrl: c.url, visitorId: "d2" });
  await plain.screen("Home");
  assert.equal("user_agent" in c.requests[2].payload[0], false);
  c.close();
});
