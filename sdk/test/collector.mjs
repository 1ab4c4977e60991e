// A stand-in /api/collect for the delivery tests: it records each request and answers with
// the statuses it is told to, in order (then 200 with the per-item result Pulse gives).
import { createServer } from "node:http";

export async function collector(statuses = []) {
  const requests = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const payload = JSON.parse(body);
      requests.push({ key: req.headers["x-pulse-key"], agent: req.headers["user-agent"], payload });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { "Content-Type": "application/json", ...(status == 429 && { "Retry-After": "0" }) });
      const items = Array.isArray(payload) ? payload : [payload];
      const errors = items.flatMap((p, index) => (p.type == "bogus" ? [{ index, error: "Unknown payload type." }] : []));
      res.end(JSON.stringify(status == 200 ? { ok: true, accepted: items.length - errors.length, errors } : { error: "no" }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => server.close() };
}
