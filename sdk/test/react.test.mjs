import assert from "node:assert/strict";
import { test } from "node:test";
import { installDom } from "./dom.mjs";

const dom = installDom("https://site.test/");
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { createElement: h, act } = await import("react");
const { createRoot } = await import("react-dom/client");
const { PulseProvider, usePulse, usePulsePageview } = await import("@ayushojha/pulse-analytics/react");

test("PulseProvider gives one client; usePulsePageview records a view per page", async () => {
  let client;
  function Page({ path }) {
    usePulsePageview(path);
    client = usePulse();
    return h("p", null, "page " + path);
  }
  const config = { apiKey: "k", apiUrl: "https://pulse.example" };
  const root = createRoot(dom.window.document.body.appendChild(dom.window.document.createElement("div")));
  await act(() => root.render(h(PulseProvider, { config }, h(Page, { path: "/a" }))));
  assert.equal(dom.window.document.body.textContent, "page /a");
  assert.deepEqual(dom.types(), ["pageview"]);  // the hook's, not also an automatic one
  const first = client;

  await act(() => root.render(h(PulseProvider, { config }, h(Page, { path: "/a" }))));
  assert.equal(dom.sent.length, 1);  // a re-render of the same page is not a view
  dom.window.history.pushState({}, "", "/b");  // the router moves on, and renders the new page
  await act(() => root.render(h(PulseProvider, { config }, h(Page, { path: "/b" }))));
  assert.deepEqual(dom.sent.map((p) => p.url), ["https://site.test/", "https://site.test/b"]);
  assert.equal(client, first);

  client.event("clicked");
  assert.equal(dom.sent.at(-1).name, "clicked");
  await act(() => root.unmount());
});
