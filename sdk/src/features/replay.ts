import { record } from "rrweb";
import type { Tracker } from "../tracker/core";

const FLUSH_MS = 5000;
const MAX_EVENTS = 500; // per chunk; the collect endpoint accepts up to 1000

/**
 * Session replay with rrweb: DOM snapshots and mutations of this page, sent in chunks every few
 * seconds and when the page is hidden. Form inputs are masked unless `replayMask` is false;
 * passwords always are. Elements with the class `pulse-block` are not recorded at all.
 */
export function install(t: Tracker): void {
  const recording = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  let events: unknown[] = [], seq = 0;
  const flush = () => {
    if (!events.length) return;
    t.send("replay", { recording_id: recording, seq: seq++, events }, true);
    events = [];
  };
  record({
    emit(e) {
      events.push(e);
      // The first full snapshot goes at once, so a short visit still yields a playable recording.
      if (events.length >= MAX_EVENTS || e.type == 2) flush();
    },
    maskAllInputs: t.o.replayMask !== false,
    maskInputOptions: { password: true },
    blockClass: "pulse-block",
    sampling: { mousemove: 50, scroll: 150, input: "last" },
  });
  setInterval(flush, FLUSH_MS);
  t.on("leave", flush);
}
