import type { Tracker } from "../tracker/core";

/** The deepest point of each page the visitor saw, in percent, sent when the page is left or hidden. */
export function install(t: Tracker): void {
  const e = document.documentElement;
  let max = 0;
  const measure = () => {
    const height = e.scrollHeight;
    max = Math.max(max, height ? Math.min(100, ((scrollY + innerHeight) / height) * 100) : 100);
  };
  addEventListener("scroll", measure, { passive: true });
  t.on("leave", () => {
    measure();
    t.send("scroll_depth", { max_depth: Math.round(max) });
  });
  // A new page starts at its own top; `leave` has already reported the previous one.
  t.on("page", () => (max = 0));
  measure();
}
