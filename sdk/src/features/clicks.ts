import type { Tracker } from "../tracker/core";

/** A short CSS selector for `el`: up to five ancestors, stopping at the nearest id. */
export function selector(el: Element | null): string {
  const parts: string[] = [];
  for (let i = 0; el && el.nodeType == 1 && i < 5; i++, el = el.parentElement) {
    const tag = el.localName;
    if (el.id) {
      parts.unshift(tag + "#" + CSS.escape(el.id));
      break;
    }
    const classes = [...el.classList].slice(0, 2).map((c) => "." + CSS.escape(c)).join("");
    const parent = el.parentElement;
    const same = parent ? [...parent.children].filter((c) => c.localName == tag) : [];
    parts.unshift(tag + classes + (same.length > 1 ? `:nth-of-type(${same.indexOf(el) + 1})` : ""));
    if (tag == "body") break;
  }
  return parts.join(" > ").slice(0, 1024);
}

/** Click positions (page coordinates) and the element clicked, for heatmaps. */
export function install(t: Tracker): void {
  const e = document.documentElement;
  document.addEventListener(
    "click",
    (ev) => {
      const el = ev.target as Element;
      // What a visitor typed is theirs: form fields contribute no text.
      const text = el.closest?.("input,textarea,select,[contenteditable]") ? "" : (el.textContent || "").trim();
      t.send("click_event", {
        x: Math.max(0, Math.round(ev.pageX)),
        y: Math.max(0, Math.round(ev.pageY)),
        element_selector: selector(el),
        element_text: text.replace(/\s+/g, " ").slice(0, 200) || undefined,
        viewport_width: innerWidth,
        viewport_height: innerHeight,
        page_width: e.scrollWidth,
        page_height: e.scrollHeight,
      });
    },
    true,
  );
}
