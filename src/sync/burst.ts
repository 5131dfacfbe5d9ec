/**
 * A short burst of client exchanges with one server over real UDP (each request from a new
 * random source port), keeping every good measurement and honouring Kiss-o'-Death: DENY and
 * RSTR stop all use of the server, RATE stops sending to it for this run. Requests are built
 * and replies measured by core (src/core/source/measure.ts), with the daemon's tests.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS } from "../config/defaults.ts";
import {
  buildClientRequest,
  type ClientRequest,
  type MeasureContext,
  type Measurement,
  measureReply,
  REJECT_TEXT,
  type RejectReason,
} from "../core/source/measure.ts";
import type { Instant } from "../base/time.ts";
import type { NtpPacket } from "../ntp/packet.ts";
import type { SocketAddress } from "../base/ports.ts";
import {
  type ClockFn,
  exchange,
  type ExchangeFn,
  type ExchangeResult,
  openUdp,
} from "../io/udp.ts";
import { kernelExchange } from "./kernel_udp.ts";
import { kernelSocketsAvailable } from "../io/kernel_socket.ts";
import type { KissAction } from "../ntp/packet.ts";
import type { PacketAuthenticator } from "../core/source/packet_auth.ts";
import { bestEffort } from "../base/errors.ts";

/** Local clock precision assumed for the dispersion of a sample, seconds. */
export const LOCAL_PRECISION = 1e-6;

/** A good measurement with the reply it came from. */
export interface BurstSample extends Measurement {
  /** The decoded reply. */
  packet: NtpPacket;
}

/** Why a reply of a burst was not used: a test it failed, or not a reply at all. */
export type BurstRejectReason = RejectReason | "not-a-reply";

/** What one reply of a burst turned out to be. */
export type BurstVerdict =
  | { kind: "sample"; sample: BurstSample }
  | { kind: "kod"; code: string; action: KissAction }
  | { kind: "rejected"; reason: BurstRejectReason; detail: string };

/** The tests of a one-shot: the daemon's defaults, no history, no reference of our own. */
const ONE_SHOT_CONTEXT: Omit<MeasureContext, "lastRemoteTx"> = {
  auth: null,
  localPrecision: LOCAL_PRECISION,
  offsetCorrection: 0,
  skew: 0,
  maxDelay: DEFAULT_SOURCE_PARAMS.maxDelay,
  maxDelayRatio: DEFAULT_SOURCE_PARAMS.maxDelayRatio,
  maxDelayDevRatio: DEFAULT_SOURCE_PARAMS.maxDelayDevRatio,
  maxClockError: 1,
  delayTestData: () => null,
  reference: null,
};

/**
 * Measures a reply to `request` sent at `t1` and received at `t4` (core's measureReply);
 * `lastRemoteTx` is the transmit timestamp of the last good reply from the server (test 1).
 */
export function measureBurstReply(
  request: ClientRequest,
  t1: Instant,
  t4: Instant,
  bytes: Uint8Array,
  lastRemoteTx: bigint | null = null,
  auth: PacketAuthenticator | null = null,
): BurstVerdict {
  const v = measureReply(
    bytes,
    t4,
    { cookie: request.cookie, localTx: t1, presend: false, answered: false },
    { ...ONE_SHOT_CONTEXT, lastRemoteTx, auth: auth === null ? null : { port: auth } },
  );
  switch (v.kind) {
    case "ignored":
      return { kind: "rejected", reason: "not-a-reply", detail: v.detail };
    case "invalid":
      if (v.kodRate) return { kind: "kod", code: "RATE", action: "reduce-rate" };
      return { kind: "rejected", reason: v.reason, detail: REJECT_TEXT[v.reason] };
    case "kod":
      return { kind: "kod", code: v.code, action: "demobilize" };
  }
  if (v.kodRate) return { kind: "kod", code: "RATE", action: "reduce-rate" };
  if (v.rejection !== null) {
    return { kind: "rejected", reason: v.rejection, detail: REJECT_TEXT[v.rejection] };
  }
  return { kind: "sample", sample: { ...v.measurement, packet: v.packet } };
}

/** Options of a burst. */
export interface BurstOptions {
  /** Number of requests (>= 1). */
  count: number;
  /** Pause between a reply (or `retryAfterMs` without one) and the next request, ms. */
  spacingMs: number;
  /** Send the next request after this long even if the previous one is unanswered, ms. */
  retryAfterMs: number;
  /**
   * How long each request waits for its reply, ms. Until the server has answered once, the
   * whole burst shares this budget from its first request, so a dead server costs one
   * timeout, not one per request.
   */
  timeoutMs: number;
  /** The clock stamping send and receive times. */
  clock: ClockFn;
  /** Fills a buffer with cryptographically random octets. */
  randomFill: (bytes: Uint8Array) => void;
  /** The exchange to use (default: `bestExchange`). */
  exchange?: ExchangeFn;
  /** NTS (or another authenticator): requests protected, replies checked by it. */
  auth?: PacketAuthenticator | null;
}

/**
 * The most accurate exchange available: a libc socket with kernel receive timestamps when
 * FFI works, else the Deno socket (also when the libc socket cannot be created; the
 * fallback happens before anything is sent).
 */
export const bestExchange: ExchangeFn = async (to, request, options): Promise<ExchangeResult> => {
  if (kernelSocketsAvailable()) {
    try {
      return await kernelExchange(to, request, options);
    } catch {
      // fall back to the Deno socket below
    }
  }
  return await exchange(to, request, options);
};

/** Reasonable defaults for a boot-time burst against LAN or Internet servers. */
export const DEFAULT_BURST: Omit<BurstOptions, "clock" | "randomFill"> = {
  count: 4,
  spacingMs: 2,
  retryAfterMs: 250,
  timeoutMs: 1000,
};

/** Everything a burst learned about one server. */
export interface BurstReport {
  /** The server's address. */
  server: SocketAddress;
  /** Requests sent. */
  sent: number;
  /** Accepted measurements, in order of sending. */
  samples: BurstSample[];
  /** The lowest-delay measurement, or null. */
  best: BurstSample | null;
  /** The Kiss-o'-Death received, if any (the first one that stopped us). */
  kod: { code: string; action: KissAction } | null;
  /** Replies that were dropped, with the reason. */
  rejected: Array<{ reason: BurstRejectReason; detail: string }>;
  /** A local error (sending failed), or null. */
  error: string | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a burst against `server`. Never throws for network trouble. */
export async function runBurst(server: SocketAddress, options: BurstOptions): Promise<BurstReport> {
  const report: BurstReport = {
    server,
    sent: 0,
    samples: [],
    best: null,
    kod: null,
    rejected: [],
    error: null,
  };
  let lastRemoteTx: bigint | null = null;
  let stop = false;
  const pending: Promise<void>[] = [];
  const handle = (verdict: BurstVerdict): boolean => {
    if (verdict.kind === "sample") {
      report.samples.push(verdict.sample);
      lastRemoteTx = verdict.sample.packet.transmitTime;
      return true;
    }
    if (verdict.kind === "kod") {
      report.kod ??= { code: verdict.code, action: verdict.action };
      stop = true;
      return true;
    }
    report.rejected.push({ reason: verdict.reason, detail: verdict.detail });
    // A reply that fails the checks does not end the exchange: the genuine one may follow.
    return false;
  };
  let firstSend = 0;
  let answered = false;
  for (let i = 0; i < Math.max(1, options.count) && !stop; i++) {
    if (i > 0) await sleep(options.spacingMs);
    if (stop) break;
    const random = new Uint8Array(8);
    options.randomFill(random);
    const plain = buildClientRequest(random);
    const auth = options.auth ?? null;
    const bytes = auth === null ? plain.bytes : auth.protect(plain.bytes);
    if (bytes === null) {
      report.error ??= "no NTS cookie left";
      break;
    }
    const request = { cookie: plain.cookie, bytes };
    if (i === 0) firstSend = performance.now();
    const timeoutMs = answered
      ? options.timeoutMs
      : Math.max(0, firstSend + options.timeoutMs - performance.now());
    if (timeoutMs <= 0) break;
    report.sent++;
    const task = (options.exchange ?? bestExchange)(server, request.bytes, {
      clock: options.clock,
      timeoutMs,
      accept: (datagram, sentAt) => {
        const done = handle(
          measureBurstReply(
            request,
            sentAt,
            datagram.receivedAt,
            datagram.data,
            lastRemoteTx,
            options.auth ?? null,
          ),
        );
        if (done) answered = true;
        return done;
      },
    }).then((result) => {
      if (result.sendError !== null) {
        report.error ??= result.sendError;
        stop = true;
      }
    }, (error) => {
      report.error ??= error instanceof Error ? error.message : String(error);
      stop = true;
    });
    pending.push(task);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      task,
      new Promise<void>((resolve) => timer = setTimeout(resolve, options.retryAfterMs)),
    ]);
    clearTimeout(timer);
  }
  await Promise.all(pending);
  report.samples.sort((a, b) => Number(a.t1 - b.t1));
  for (const s of report.samples) {
    if (report.best === null || s.delay < report.best.delay) report.best = s;
  }
  return report;
}

/**
 * Runs one exchange against a throw-away socket on 127.0.0.1 and evaluates the echoed
 * request, so the first real exchange of the process does not pay for cold code paths (JIT,
 * first socket, first clock read): in a fresh process that first exchange is otherwise
 * often a millisecond or more slower. Sends nothing off the host; never throws.
 */
export async function warmUp(clock: ClockFn, exchangeFn: ExchangeFn = bestExchange): Promise<void> {
  let echo: Deno.DatagramConn | null = null;
  try {
    echo = openUdp("127.0.0.1", 0);
    const port = (echo.addr as Deno.NetAddr).port;
    const request = buildClientRequest(crypto.getRandomValues(new Uint8Array(8)));
    const pending = exchangeFn({ address: "127.0.0.1", port }, request.bytes, {
      clock,
      timeoutMs: 100,
      accept: (d, sentAt) => {
        measureBurstReply(request, sentAt, d.receivedAt, d.data);
        return true;
      },
    });
    const [data, from] = await echo.receive();
    await echo.send(data, from);
    await pending;
  } catch {
    // Warming up is best effort.
  } finally {
    bestEffort(() => echo?.close());
  }
}
