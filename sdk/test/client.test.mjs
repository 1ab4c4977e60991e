import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { installDom, click } from "./dom.mjs";

const API = "https://pulse.example";
const KEY = "pa_live_test";
const { PulseClient } = await import("../dist/esm/index.js");
let dom;
const make = (url, config = {}, opts) => {
  dom = installDom(url, opts);
  return new PulseClient({ apiKey: KEY, apiUrl: API, ...config });
};
afterEach(() => dom?.window.close());

test("a pageview on start", () => {
  make("https://site.test/pricing?plan=pro");
  assert.deepEqual(dom.sent, [{
    type: "pageview", url: "https://site.test/pricing?plan=pro", title: "", referrer: "", screen: "1024x768",
    language: "en-US", consent_mode: "analytics", consent_granted: true,
  }]);
});

test("the beacon goes to the configured Pulse with the ingest key", () => {
  dom = installDom("https://site.test/");
  const beacons = [];
  dom.window.navigator.sendBeacon = (to) => beacons.push(to);
  new PulseClient({ apiKey: "pa live/1", apiUrl: API + "/" });
  assert.deepEqual(beacons, [`${API}/api/collect?key=pa%20live%2F1`]);
});

test("SPA navigation: one pageview per new page, none for the same page or a plain anchor", () => {
  make("https://site.test/");
  const { history } = dom.window;
  history.pushState({}, "", "/docs");
  history.replaceState({}, "", "/docs");
  history.pushState({}, "", "/docs#install");
  history.pushState({}, "", "/app#/settings");
  assert.deepEqual(dom.types(), ["pageview", "pageview", "pageview"]);
  assert.equal(dom.sent[1].url, "https://site.test/docs");
  assert.equal(dom.sent[1].referrer, "https://site.test/");
  assert.equal(dom.sent[2].path, "/app#/settings");
  dom.window.location.hash = "#/profile";
  dom.window.dispatchEvent(new dom.window.HashChangeEvent("hashchange"));
  assert.equal(dom.sent.at(-1).path, "/app#/profile");
  assert.equal(dom.sent.length, 4);
});

test("utm parameters leave the URL unless trackUtm", () => {
  make("https://site.test/?utm_source=news&id=7");
  assert.equal(dom.sent[0].url, "https://site.test/?id=7");
  dom.window.close();
  make("https://site.test/?utm_source=news&id=7", { trackUtm: true });
  assert.equal(dom.sent[0].url, "https://site.test/?utm_source=news&id=7");
});

test("events, revenue, search, logs, surveys and identify have the collect payload shapes", () => {
  const pulse = make("https://site.test/shop", { release: "1.2", environment: "staging" });
  pulse.event("signup_complete", { method: "google" });
  pulse.event("purchase", { plan: "pro" }, 29.99, "USD");
  pulse.search("deployment guide", 12);
  pulse.log("warn", "Checkout retry", { order_id: "ord_123" });
  pulse.surveyResponse({ survey_id: "c7f3e8a2-91b4-4d6e-b2f1-8a3c9d4e5f6a", answers: [{ question_id: "q1", value: 9 }] });
  pulse.identify("user_123", { plan: "pro" });
  const [, signup, purchase, search, log, survey, identify] = dom.sent;
  assert.deepEqual([signup.name, signup.data], ["signup_complete", { method: "google" }]);
  assert.deepEqual([purchase.revenue_amount, purchase.revenue_currency], [29.99, "USD"]);
  assert.deepEqual([search.type, search.query, search.results_count], ["search_query", "deployment guide", 12]);
  assert.deepEqual([log.level, log.message, log.body, log.release, log.environment],
    ["warn", "Checkout retry", { order_id: "ord_123" }, "1.2", "staging"]);
  assert.equal(survey.type, "survey_response");
  assert.deepEqual([identify.user_id, identify.traits], ["user_123", { plan: "pro" }]);
  assert.ok(dom.sent.every((p) => p.url == "https://site.test/shop"));
});

test("with consent pending nothing is sent; granting sends what was held, withdrawing stops it", () => {
  const pulse = make("https://site.test/", { consentGranted: false, consentMode: "measurement" });
  pulse.event("early");
  assert.equal(dom.sent.length, 0);
  pulse.consent(true);
  assert.deepEqual(dom.types(), ["pageview", "event"]);
  assert.ok(dom.sent.every((p) => p.consent_granted === true && p.consent_mode == "measurement"));
  pulse.consent(false);
  pulse.event("after");
  assert.equal(dom.sent.length, 2);
});

test("Do Not Track: nothing at all, unless respectDnt is false", () => {
  const pulse = make("https://site.test/", { trackErrors: true }, { doNotTrack: true });
  pulse.event("x");
  dom.window.history.pushState({}, "", "/next");
  assert.equal(dom.sent.length, 0);
  dom.window.close();
  make("https://site.test/", { respectDnt: false }, { doNotTrack: true });
  assert.equal(dom.sent.length, 1);
});

test("an engagement ping is sent when a page that was visible is hidden", (t) => {
  t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
  make("https://site.test/");
  const hide = (hidden) => {
    Object.defineProperty(dom.window.document, "hidden", { configurable: true, value: hidden });
    dom.window.document.dispatchEvent(new dom.window.Event("visibilitychange"));
  };
  t.mock.timers.tick(4_200);
  hide(true);
  assert.equal(dom.sent.at(-1).type, "engagement");
  assert.equal(dom.sent.at(-1).url, "https://site.test/");
  const sent = dom.sent.length;
  hide(false);
  t.mock.timers.tick(500);
  hide(true); // visible for half a second only: nothing worth a ping
  assert.equal(dom.sent.length, sent);
});

test("optional features load only when turned on, and run", async () => {
  const pulse = make("https://site.test/results?q=pricing", {
    trackOutlinks: true, trackErrors: true, trackClicks: true, trackSearch: true, trackScrollDepth: true,
    release: "9",
  });
  await pulse.ready;
  const { document } = dom.window;
  assert.deepEqual(dom.types(), ["pageview", "search_query"]);
  assert.equal(dom.sent[1].query, "pricing");

  document.body.innerHTML = `<main id="app"><ul><li><a class="ext big" href="https://other.example/x">Out</a></li>
    <li><a href="/files/a.pdf">PDF</a></li></ul></main>`;
  const [out, pdf] = document.querySelectorAll("a");
  out.addEventListener("click", (e) => e.preventDefault());
  pdf.addEventListener("click", (e) => e.preventDefault());
  click(dom.window, out, { clientX: 10, clientY: 20 });
  click(dom.window, pdf);
  const outlinks = dom.sent.filter((p) => p.type == "outlink");
  assert.deepEqual(outlinks.map((p) => [p.url, p.domain, p.link_type, p.page_url]), [
    ["https://other.example/x", "other.example", "external", "https://site.test/results?q=pricing"],
    ["https://site.test/files/a.pdf", "site.test", "download", "https://site.test/results?q=pricing"],
  ]);
  const clicks = dom.sent.filter((p) => p.type == "click_event");
  assert.equal(clicks[0].element_selector, "main#app > ul > li:nth-of-type(1) > a.ext.big");
  assert.equal(clicks[0].element_text, "Out");

  dom.window.dispatchEvent(new dom.window.ErrorEvent("error", {
    message: "boom", error: new TypeError("boom"), filename: "https://site.test/app.js", lineno: 3, colno: 7,
  }));
  const error = dom.sent.find((p) => p.type == "js_error");
  assert.deepEqual([error.message, error.error_type, error.lineno, error.release, error.environment],
    ["boom", "TypeError", 3, "9", "production"]);

  dom.window.history.pushState({}, "", "/other");  // leaving the page reports its scroll depth
  assert.ok(dom.sent.some((p) => p.type == "scroll_depth" && p.url == "https://site.test/results?q=pricing"));
});
