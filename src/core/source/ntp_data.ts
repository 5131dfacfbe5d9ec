/**
 * chronyc `ntpdata` for an NTP source: the last valid reply's header and what was measured
 * from it, with the source's counters.
 *
 * @module
 */
import type { NtpPacket } from "../../ntp/packet.ts";
import { ntp64ToInstant } from "../../ntp/timestamp.ts";
import type { SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import type { Instant } from "../../base/time.ts";
import type { Measurement } from "./measure.ts";

/** What the last reply measured (zero before the first). */
export interface LastMeasurement
  extends Pick<Measurement, "offset" | "delay" | "dispersion" | "responseTime"> {
  /** Test bits (TestBit). */
  tests: number;
  /** The reply was interleaved (RFC 9769). */
  interleaved?: boolean;
  /** The local transmit time was the kernel's timestamp (not the daemon's reading). */
  txKernel?: boolean;
  /** The local receive time was the kernel's timestamp (not the daemon's reading). */
  rxKernel?: boolean;
  /** Cooked time of the measurement: midway between its local transmit and receive times. */
  sampleTime?: Instant;
}

/** Request and reply counters of a source. */
export interface SourceCounters {
  /** Requests sent. */
  tx: number;
  /** Replies received. */
  rx: number;
  /** Replies that passed tests 1, 2, 3 and 5. */
  validRx: number;
  /** Replies that gave a good sample. */
  goodRx: number;
  /** Valid replies whose request's transmit time was the kernel's timestamp. */
  kernelTx?: number;
  /** Valid replies whose receive time was the kernel's timestamp. */
  kernelRx?: number;
}

/** Builds the ntpdata report at cooked time `now`. */
export function ntpDataReport(
  address: SocketAddress,
  packet: NtpPacket | null,
  last: LastMeasurement,
  counters: SourceCounters,
  extra: { jitterAsymmetry: number; authenticated: boolean; now: Instant; pollScore?: number },
): NtpDataReport {
  const p = packet;
  return {
    remoteAddress: address.address,
    remotePort: address.port,
    localAddress: address.address.includes(":") ? "::" : "0.0.0.0",
    leap: p?.leap ?? 3,
    version: p?.version ?? 0,
    mode: p?.mode ?? 0,
    stratum: p?.stratum ?? 0,
    poll: p?.poll ?? 0,
    precision: p?.precision ?? 0,
    rootDelay: p?.rootDelay ?? 0,
    rootDispersion: p?.rootDispersion ?? 0,
    refId: p?.refId ?? 0,
    refTime: p ? ntp64ToInstant(p.refTime, extra.now) : 0n,
    offset: last.offset,
    peerDelay: last.delay,
    peerDispersion: last.dispersion,
    responseTime: last.responseTime,
    jitterAsymmetry: extra.jitterAsymmetry,
    tests: last.tests,
    interleaved: last.interleaved ?? false,
    txKernel: last.txKernel ?? false,
    rxKernel: last.rxKernel ?? false,
    ...(last.sampleTime !== undefined ? { sampleTime: last.sampleTime } : {}),
    authenticated: extra.authenticated,
    totalTx: counters.tx,
    totalRx: counters.rx,
    totalValidRx: counters.validRx,
    totalGoodRx: counters.goodRx,
    totalKernelTx: counters.kernelTx ?? 0,
    totalKernelRx: counters.kernelRx ?? 0,
    pollScore: extra.pollScore ?? 0,
  };
}
