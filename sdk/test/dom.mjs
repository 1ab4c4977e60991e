// A browser for the SDK's unit tests: happy-dom's window, installed as Node's globals, with
// navigator.sendBeacon recording what the tracker sends.
import { Window } from "happy-dom";

const GLOBALS = ["document", "navigator", "location", "history", "screen", "CSS", "innerWidth", "innerHeight",
  "scrollY", "addEventListener", "removeEventListener", "requestAnimationFrame", "Element", "HTMLElement", "Node",
  "Event", "MouseEvent", "ErrorEvent", "PromiseRejectionEvent", "customElements", "getComputedStyle", "SVGElement",
  "MutationObserver", "Text"];

export function installDom(url = "https://site.test/", { doNotTrack } = {}) {
  const window = new Window({ url, width: 1280, height: 800 });
  const sent = [];
  window.navigator.sendBeacon = (_to, body) => {
    sent.push(JSON.parse(body));
    return true;
  };
  if (doNotTrack) Object.defineProperty(window.navigator, "doNotTrack", { value: "1" });
  for (const name of GLOBALS) {
    const value = window[name];
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get: () => (typeof value == "function" && !/^[A-Z]/.test(name) ? value.bind(window) : window[name]),
    });
  }
  Object.defineProperty(globalThis, "window", { configurable: true, value: window });
  return { window, sent, types: () => sent.map((p) => p.type) };
}

/** A click on `el`, as a browser dispatches it. */
export function click(window, el, init = {}) {
  el.dispatchEvent(new window.MouseEvent("click", { bubbles: true, cancelable: true, ...init }));
}
