import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from "web-vitals";
import type { Tracker } from "../tracker/core";

/** Core Web Vitals, measured by Google's web-vitals library (LCP, CLS and INP arrive when the page is hidden). */
export function install(t: Tracker): void {
  const report = (m: Metric) =>
    t.send("web_vital", { name: m.name, value: m.value, rating: m.rating, navigation_type: m.navigationType, id: m.id });
  for (const on of [onCLS, onFCP, onINP, onLCP, onTTFB]) on(report);
}
