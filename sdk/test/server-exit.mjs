// Run by server.test.mjs: queue one event and let the process end without flushing.
import { PulseServerClient } from "@ayushojha/pulse-analytics/server";

const pulse = new PulseServerClient({ apiKey: "k", apiUrl: process.argv[2], flushInterval: 60_000 });
await pulse.trackEvent({ visitorId: "v", eventName: "exiting" });
