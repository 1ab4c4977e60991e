import type { Tracker } from "../tracker/core";

const MAX_PER_PAGE = 25; // a loop that throws should not flood the project

/** Uncaught errors and unhandled promise rejections, tagged with the release and environment. */
export function install(t: Tracker): void {
  let count = 0;
  const report = (message: unknown, error: unknown, at?: ErrorEvent) => {
    if (++count > MAX_PER_PAGE) return;
    const err = error instanceof Error ? error : undefined;
    t.send("js_error", {
      message: String((err && err.message) || message || "Unknown error").slice(0, 4000),
      error_type: err ? err.name : at ? "Error" : "UnhandledRejection",
      stack: err?.stack?.slice(0, 16000),
      filename: at?.filename || undefined,
      lineno: at?.lineno || undefined,
      colno: at?.colno || undefined,
      release: t.o.release,
      environment: t.o.environment || "production",
    });
  };
  addEventListener("error", (e) => report(e.message, e.error, e));
  addEventListener("unhandledrejection", (e) => report(e.reason, e.reason));
}
