import assert from "node:assert/strict";
import { test } from "node:test";
import { installDom } from "./dom.mjs";

const dom = installDom("https://site.test/");
const { createApp, h, ref, nextTick } = await import("vue");
const { createPulseVue, usePulse, usePulsePageview } = await import("@ayushojha/pulse-analytics/vue");

test("the plugin provides one client; usePulsePageview records the mount and each path change", async () => {
  const path = ref("/a");
  let client;
  const app = createApp({
    setup() {
      usePulsePageview(() => path.value);
      client = usePulse();
      return () => h("p", "page " + path.value);
    },
  });
  app.use(createPulseVue({ config: { apiKey: "k", apiUrl: "https://pulse.example" } }));
  const el = dom.window.document.body.appendChild(dom.window.document.createElement("div"));
  app.mount(el);
  assert.equal(el.textContent, "page /a");
  assert.deepEqual(dom.types(), ["pageview"]);
  assert.equal(app.config.globalProperties.$pulse, client);

  dom.window.history.pushState({}, "", "/b");
  path.value = "/b";
  await nextTick();
  assert.deepEqual(dom.sent.map((p) => p.url), ["https://site.test/", "https://site.test/b"]);
  client.event("vue_event", { ok: true });
  assert.deepEqual(dom.sent.at(-1).data, { ok: true });
  app.unmount();
});
