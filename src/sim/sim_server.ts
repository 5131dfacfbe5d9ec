/**
 * Simulated NTP servers: a clock of their own (perfect by default; a falseticker has a
 * fixed offset, optionally a frequency error) and a small responder that decodes the
 * client's request with `src/ntp/packet.ts`, echoes its transmit timestamp as origin and
 * fills receive/transmit timestamps from the server's clock.
 *
 * @module
 */
import { decodePacket, encodePacket, NtpMode } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import type { LeapStatus } from "../core/reports.ts";
import type { Instant } from "../core/time.ts";

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

/** A simulated NTP server. */
export class SimServer {
  /** Requests received. */
  requests = 0;
  /** Replies sent. */
  replies = 0;
  readonly #spec: ServerSpec;
  readonly #start: Instant;

  /** A server whose clock starts counting frequency error at true time `start`. */
  constructor(spec: ServerSpec, start: Instant) {
    this.#spec = spec;
    this.#start = start;
  }

  /** The server's clock reading at true time `t`. */
  readClock(t: Instant): Instant {
    const since = Number(t - this.#start) / 1e9;
    const err = (this.#spec.offset ?? 0) + (this.#spec.freq ?? 0) * since;
    return t + BigInt(Math.round(err * 1e9));
  }

  /** Answers a request arriving at true time `rxTrue`; null if it is not a client request. */
  respond(request: Uint8Array, rxTrue: Instant): ServerReply | null {
    this.requests++;
    const decoded = decodePacket(request);
    if (!decoded.ok || decoded.packet.mode !== NtpMode.Client) return null;
    const req = decoded.packet;
    const s = this.#spec;
    const processing = s.processing ?? 1e-6;
    const rx = this.readClock(rxTrue);
    const tx = this.readClock(rxTrue + BigInt(Math.round(processing * 1e9)));
    const refTime = rx - (rx % 16_000_000_000n);
    const bytes = encodePacket({
      leap: s.leap ?? 0,
      version: req.version,
      mode: NtpMode.Server,
      stratum: s.stratum ?? 1,
      poll: req.poll,
      precision: s.precision ?? -23,
      rootDelay: s.rootDelay ?? 0,
      rootDispersion: s.rootDispersion ?? 0,
      refId: s.refId ?? SIM_SERVER_REFID,
      refTime: instantToNtp64(refTime),
      originTime: req.transmitTime,
      receiveTime: instantToNtp64(rx),
      transmitTime: instantToNtp64(tx),
      extensions: [],
      mac: null,
    });
    this.replies++;
    return { bytes, processing };
  }
}
