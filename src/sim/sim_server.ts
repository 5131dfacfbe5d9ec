/**
 * Simulated NTP servers: a clock of their own (perfect by default; a falseticker has a
 * fixed offset, optionally a frequency error) answering through tempus's own responder
 * (`src/core/server.ts`), which echoes the request's transmit timestamp as origin; receive
 * and transmit timestamps come from the server's clock.
 *
 * @module
 */
import type { RateLimitConfig } from "../config/model.ts";
import { AccessTable } from "../core/access.ts";
import { ClientLog } from "../core/client_log.ts";
import type { LeapStatus } from "../core/reports.ts";
import type { RandomPort } from "../base/ports.ts";
import { NtpResponder, type RequestSource, type ResponderStats } from "../core/server.ts";
import type { Instant } from "../base/time.ts";
import type { ReferenceState } from "../core/types.ts";

/** How a simulated server behaves. */
export interface ServerSpec {
  /** Offset of the server's clock from true time, seconds (falseticker: e.g. 1.0). */
  offset?: number;
  /** Frequency error of the server's clock (fraction), default 0. */
  freq?: number;
  /** Stratum announced (default 1). */
  stratum?: number;
  /** Leap indicator announced (default 0). */
  leap?: LeapStatus;
  /** Reference ID announced (default 127.127.1.1, chrony's local reference). */
  refId?: number;
  /** Root delay announced, seconds (default 0). */
  rootDelay?: number;
  /** Root dispersion announced, seconds (default 0). */
  rootDispersion?: number;
  /** Precision announced, log2 seconds (default -23). */
  precision?: number;
  /** Processing time between receive and transmit, seconds (default 1 µs). */
  processing?: number;
  /**
   * An inserted leap second at this simulated second: the server's clock (UTC) repeats a
   * second there, and it announces the leap (leap indicator 1) during the day before.
   */
  leapAt?: number;
  /** Server-side `ratelimit` (null/absent = off), applied by tempus's ClientLog. */
  rateLimit?: RateLimitConfig | null;
}

/** A reply built by a simulated server. */
export interface ServerReply {
  /** Encoded NTP packet. */
  bytes: Uint8Array;
  /** Seconds from receive to transmit (true time). */
  processing: number;
}

/** Default reference ID of a simulated stratum-1 server (127.127.1.1). */
export const SIM_SERVER_REFID = 0x7f7f0101;

/** The client's address as the servers see it. */
const CLIENT_ADDRESS: RequestSource = { address: "192.168.123.100", port: 40123 };

/** A simulated NTP server. */
export class SimServer {
  /** Requests received. */
  requests = 0;
  /** Replies sent. */
  replies = 0;
  readonly #spec: ServerSpec;
  readonly #start: Instant;
  readonly #responder: NtpResponder;

  /**
   * A server whose clock starts counting frequency error at true time `start`; `random`
   * drives rate limiting's leak and KoD choices (needed only with `rateLimit`).
   */
  constructor(spec: ServerSpec, start: Instant, random: RandomPort | null = null) {
    this.#spec = spec;
    this.#start = start;
    const rateLimit = spec.rateLimit ?? null;
    this.#responder = new NtpResponder({
      access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
      clientLog: rateLimit && random
        ? new ClientLog({ ntpRateLimit: rateLimit, random: () => random.next() })
        : null,
    });
  }

  /** What the responder did with requests (replies, rate-limit drops, KoDs...). */
  get stats(): ResponderStats {
    return this.#responder.stats;
  }

  /** The server's clock reading at true time `t`. */
  readClock(t: Instant): Instant {
    const since = Number(t - this.#start) / 1e9;
    const leapAt = this.#spec.leapAt;
    const leap = leapAt !== undefined && since >= leapAt ? -1 : 0;
    const err = (this.#spec.offset ?? 0) + (this.#spec.freq ?? 0) * since + leap;
    return t + BigInt(Math.round(err * 1e9));
  }

  /** Answers a request arriving at true time `rxTrue`; null if it gets no reply. */
  respond(request: Uint8Array, rxTrue: Instant): ServerReply | null {
    this.requests++;
    const s = this.#spec;
    const processing = s.processing ?? 1e-6;
    const rx = this.readClock(rxTrue);
    const txTrue = rxTrue + BigInt(Math.round(processing * 1e9));
    const since = Number(rxTrue - this.#start) / 1e9;
    const announce = s.leapAt !== undefined && since >= s.leapAt - 86_400 && since < s.leapAt;
    const reference: ReferenceState = {
      synchronised: true,
      leap: s.leap ?? (announce ? 1 : 0),
      stratum: s.stratum ?? 1,
      refId: s.refId ?? SIM_SERVER_REFID,
      refTime: rx - (rx % 16_000_000_000n),
      rootDelay: s.rootDelay ?? 0,
      rootDispersion: s.rootDispersion ?? 0,
      dispersionRate: 0,
      precisionLog2: s.precision ?? -23,
    };
    const reply = this.#responder.respond(
      request,
      CLIENT_ADDRESS,
      rx,
      reference,
      () => this.readClock(txTrue),
    );
    if (reply === null) return null;
    this.replies++;
    return { bytes: reply.slice(), processing };
  }
}
