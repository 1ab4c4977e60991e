/**
 * React Native: `createPulseNative()` sends screens, events and identifies for one visitor.
 * Every call is queued first; what cannot be sent (offline, server down) stays queued, in
 * `storage` too when given (e.g. AsyncStorage), and goes out with the next call or `flush()`.
 */
import type { Payload } from "./tracker/core";
import { Queue, type QueueOptions } from "./queue";
import { DEFAULT_API_URL, SDK_VERSION, forwardedAgent } from "./config";

/** The User-Agent header the React Native client sends. */
export const NATIVE_USER_AGENT = `pulse-analytics-react-native/${SDK_VERSION}`;

export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
}

export interface PulseNativeConfig extends Omit<QueueOptions, "apiUrl" | "userAgent"> {
  apiUrl?: string;
  /** A stable id for this device or user. */
  visitorId: string;
  /**
   * The device's user agent (e.g. react-native-device-info's `getUserAgent()`), forwarded with
   * every payload so Pulse reports the app's OS and device. At most 512 characters are sent.
   */
  userAgent?: string;
  environment?: string;
  release?: string;
  /** Where the offline queue survives app restarts. */
  storage?: KeyValueStorage;
  storageKey?: string;
}

export interface PulseNative {
  screen(name: string, data?: Payload): Promise<void>;
  event(name: string, data?: Payload, revenueAmount?: number, revenueCurrency?: string): Promise<void>;
  identify(userId: string, traits?: Payload): Promise<void>;
  log(level: "debug" | "info" | "warn" | "error" | "fatal", message: string, data?: Payload): Promise<void>;
  /** Send what is queued; resolves true when the queue is empty. */
  flush(): Promise<boolean>;
  /** Payloads waiting to be sent. */
  readonly pending: number;
}

export function createPulseNative(config: PulseNativeConfig): PulseNative {
  // No retries within a call by default: offline, the next call (or flush) is the retry.
  const queue = new Queue({ maxRetries: 0, ...config, apiUrl: config.apiUrl || DEFAULT_API_URL,
    userAgent: NATIVE_USER_AGENT });
  const userAgent = forwardedAgent(config.userAgent);
  const { storage, storageKey = "pulse:queue" } = config;
  const save = () => storage?.setItem(storageKey, JSON.stringify(queue.items)).catch(() => {});
  // Payloads saved by an earlier run go first.
  const restored = storage
    ? storage.getItem(storageKey).then(
        (saved) => void (saved && queue.items.unshift(...(JSON.parse(saved) as Payload[]))),
        () => {},
      )
    : Promise.resolve();

  const flush = async () => {
    await restored;
    const empty = await queue.flush();
    await save();
    return empty;
  };
  const send = async (payload: Payload) => {
    await restored;
    queue.push({ visitor_id: config.visitorId, ...(userAgent && { user_agent: userAgent }), timestamp: Date.now(), ...payload });
    await save();
    await flush();
  };

  return {
    screen: (name, data) => send({ type: "screen", name, data }),
    event: (name, data, revenueAmount, revenueCurrency) =>
      send({ type: "event", name, data, revenue_amount: revenueAmount, revenue_currency: revenueCurrency }),
    identify: (userId, traits) => send({ type: "identify", user_id: userId, traits }),
    log: (level, message, data) =>
      send({ type: "log", level, message, body: data, release: config.release, environment: config.environment ?? "production" }),
    flush,
    get pending() {
      return queue.items.length;
    },
  };
}
