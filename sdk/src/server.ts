/**
 * `PulseServerClient` for Node.js: payloads are batched, sent with retries, and flushed on a
 * timer, when a batch fills up, before the process exits and on `shutdown()`.
 */
import type { Payload } from "./tracker/core";
import { PulseError, Queue, type QueueOptions } from "./queue";
import { DEFAULT_API_URL, SDK_VERSION, forwardedAgent } from "./config";

export { PulseError } from "./queue";
export type { Payload } from "./tracker/core";

/** The User-Agent header the server client sends. */
export const SERVER_USER_AGENT = `pulse-analytics-node/${SDK_VERSION}`;

export interface PulseServerConfig extends Omit<QueueOptions, "apiUrl" | "userAgent"> {
  /** Default https://pulse.ayushojha.com. */
  apiUrl?: string;
  /** Flush this often, in ms. Default 2000. */
  flushInterval?: number;
  /** Attached to logs and errors. */
  release?: string;
  environment?: string;
}

interface Common {
  visitorId: string;
  userId?: string;
  sessionId?: string;
  /** When it happened; default: when the call was made. */
  timestamp?: Date | number;
  url?: string;
  /**
   * The end user's User-Agent (their request's header), forwarded so Pulse parses their browser,
   * OS and device and filters bots by it rather than by this client's own agent. At most 512
   * characters are sent.
   */
  userAgent?: string;
}

export interface ServerEvent extends Common {
  eventName: string;
  data?: Payload;
  revenueAmount?: number;
  revenueCurrency?: string;
}

export interface ServerPageview extends Common {
  path?: string;
  title?: string;
  referrer?: string;
}

export interface ServerIdentify extends Common {
  traits?: Payload;
  accountId?: string;
  accountTraits?: Payload;
}

export interface ServerLog extends Partial<Common> {
  level?: "debug" | "info" | "warn" | "error" | "fatal";
  message: string;
  data?: Payload;
}

export class PulseServerClient {
  private readonly queue: Queue;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  private readonly onExit = () => void this.flush();

  constructor(readonly config: PulseServerConfig) {
    if (!config.apiKey) throw new PulseError("apiKey is required");
    this.queue = new Queue({ ...config, apiUrl: config.apiUrl || DEFAULT_API_URL, userAgent: SERVER_USER_AGENT });
    // unref: a pending flush alone never keeps the process alive; `beforeExit` sends the rest.
    this.timer = setInterval(() => void this.flush(), config.flushInterval ?? 2000);
    this.timer.unref?.();
    process.on("beforeExit", this.onExit);
  }

  /** Payloads waiting to be sent. */
  get pending(): number {
    return this.queue.items.length;
  }

  /** Queue any collect payload (`type` plus its fields). */
  async track(payload: Payload & { type: string }): Promise<void> {
    if (this.closed) throw new PulseError("the client is shut down");
    this.queue.push({ timestamp: Date.now(), ...payload });
    if (this.queue.items.length >= (this.config.batchSize ?? 50)) await this.flush();
  }

  trackEvent(e: ServerEvent): Promise<void> {
    return this.track({
      type: "event", ...common(e), name: e.eventName, data: e.data,
      revenue_amount: e.revenueAmount, revenue_currency: e.revenueCurrency,
    });
  }

  trackPageview(p: ServerPageview): Promise<void> {
    return this.track({ type: "pageview", ...common(p), path: p.path, title: p.title, referrer: p.referrer });
  }

  identify(i: ServerIdentify): Promise<void> {
    return this.track({
      type: "identify", ...common(i), traits: i.traits, account_id: i.accountId, account_traits: i.accountTraits,
    });
  }

  log(l: ServerLog): Promise<void> {
    return this.track({
      type: "log", ...common(l), level: l.level ?? "info", message: l.message, body: l.data,
      release: this.config.release, environment: this.config.environment ?? "production",
    });
  }

  /** Send everything queued now; resolves true when nothing is left queued. */
  flush(): Promise<boolean> {
    return this.queue.flush();
  }

  /** Stop the timer and send what is queued. Call it from your SIGTERM handler. */
  async shutdown(): Promise<boolean> {
    this.closed = true;
    clearInterval(this.timer);
    process.off("beforeExit", this.onExit);
    return this.flush();
  }
}

function common(c: Partial<Common>): Payload {
  const ts = c.timestamp;
  return {
    visitor_id: c.visitorId, user_id: c.userId, session_id: c.sessionId, url: c.url,
    user_agent: forwardedAgent(c.userAgent),
    ...(ts !== undefined && { timestamp: ts instanceof Date ? ts.getTime() : ts }),
  };
}
