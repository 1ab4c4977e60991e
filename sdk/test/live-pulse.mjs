// Run by tests/web/test_script_sdk.py against a live Pulse: node test/live-pulse.mjs <pulse url> <ingest key>.
// The server and React Native clients are bundled from src/ on the fly, so what runs is the
// current source, not a dist/ that may be older.
import { build } from "esbuild";

const [url, key] = process.argv.slice(2);

async function load(entry) {
  const out = await build({ entryPoints: [new URL(`../src/${entry}.ts`, import.meta.url).pathname], bundle: true,
    format: "esm", platform: "node", write: false, logLevel: "error" });
  return import("data:text/javascript;base64," + Buffer.from(out.outputFiles[0].text).toString("base64"));
}

const { PulseServerClient } = await load("server");
const errors = [];
const server = new PulseServerClient({ apiKey: key, apiUrl: url, batchSize: 3, onError: (e) => errors.push(e.message) });
await server.trackPageview({ visitorId: "visitor_123", path: "/server-rendered", title: "SSR" });
await server.trackEvent({ visitorId: "visitor_123", eventName: "subscription_renewed", data: { plan: "enterprise", mrr: 499 } });
await server.trackEvent({ visitorId: "visitor_123", eventName: "invoice_paid", revenueAmount: 499, revenueCurrency: "EUR" });
await server.identify({ visitorId: "visitor_123", userId: "user_server", traits: { plan: "enterprise" } });
await server.log({ visitorId: "visitor_123", level: "error", message: "Payment webhook failed", data: { attempt: 3 } });
await server.track({ type: "event", visitor_id: "visitor_123" });  // no name: refused by Pulse, reported
const delivered = await server.shutdown();

const { createPulseNative } = await load("react-native");
const mobile = createPulseNative({ apiKey: key, apiUrl: url, visitorId: "device_1", environment: "production",
  onError: (e) => errors.push(e.message) });
await mobile.screen("Home");
await mobile.event("purchase", { plan: "pro" }, 29.99, "USD");
await mobile.identify("user_mobile", { plan: "pro" });

console.log(JSON.stringify({ delivered, pending: server.pending + mobile.pending, errors }));
