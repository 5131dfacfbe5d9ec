/**
 * The source interface: what every kind of time source (an NTP client association today;
 * symmetric peers, broadcast/multicast clients and reference clocks next) is to the engine.
 *
 * A source is a state machine. The engine calls it - `start`, `timeout`, and for network
 * sources `sent` and `receive` - with a read-only `SourceContext`, and it answers with a list
 * of `SourceOutcome`s that the engine carries out in order: send a packet, arm or cancel the
 * source's timer, run the selection with a new sample, replace or demobilize the source,
 * write a log line. A source never calls back into the engine, and clock-change corrections
 * reach it (`applyClockChange`) only after the engine's update, never while one of its own
 * calls is on the stack.
 *
 * @module
 */
import type { SourceParams, SourceType } from "../../config/model.ts";
import type { LogLevel, SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent, NtpSample, ReferenceState } from "../types.ts";

/** Operating mode of a source (chrony OperatingMode). */
export type SourceMode = "offline" | "online" | "burst-online" | "burst-offline";

/** What the engine lets a source read while it handles a call. Read-only. */
export interface SourceContext {
  /** Cooked time now. */
  readonly now: Instant;
  /** True when this source is the selected one. */
  readonly selected: boolean;
  /** Our reference state (test D). */
  reference(): ReferenceState;
  /** Reference ID of our own address, when known (test D). */
  readonly localRefId?: number;
  /** True when samples taken at `t` must be dropped (a leap second is close). */
  isLeapSecondClose(t: Instant): boolean;
}

/** An effect a source asks the engine to carry out. */
export type SourceOutcome =
  /**
   * Send `bytes` to `to`; the engine reads the transmit time, sends, and reports back with
   * `sent(token, ok, txTime)`.
   */
  | {
    kind: "send";
    token: number;
    to: SocketAddress;
    bytes: Uint8Array;
    /** "ntp-port": from the daemon's NTP server socket (symmetric peers); default a client socket. */
    via?: "ntp-port";
  }
  /**
   * Call `timeout` after `delay` seconds (replacing any pending wake-up); with `fromLastTx`
   * the delay counts from the source's last transmission (`lastTransmit`) as it stands when
   * the engine arms the timer. The engine moves the time so that transmissions of different
   * sources are at least `separation` seconds apart.
   */
  | { kind: "wake"; delay: number; fromLastTx: boolean; separation: number }
  /** Cancel the pending wake-up. */
  | { kind: "cancel-wake" }
  /** A sample went into the source's statistics: run the selection. */
  | { kind: "sample"; sample: NtpSample }
  /** A bit was shifted into the reachability register. */
  | { kind: "reachability"; reachable: boolean }
  /** The source stayed unanswered too long: ask the owner to replace it. */
  | { kind: "replace" }
  /** The source refuses service (KoD DENY or RSTR) and will send nothing more. */
  | { kind: "demobilize"; code: string }
  /** A log line. */
  | { kind: "log"; level: LogLevel; message: string }
  /**
   * chrony REF_AdjustReference (a `local` refclock): slew `doffset` seconds and change the
   * frequency by `dfreq` (fraction, > 0: faster) without correcting the other sources, then
   * move this source's statistics and samples by the change made.
   */
  | { kind: "adjust-clock"; doffset: number; dfreq: number };

/** A `log` outcome. */
export function logOutcome(level: LogLevel, message: string): SourceOutcome {
  return { kind: "log", level, message };
}

/** A time source as the engine, the selection and the reports see it. */
export interface Source {
  /** Engine id. */
  readonly id: number;
  /** Kind of source (server, pool, peer, or a reference clock). */
  readonly type: SourceType | "refclock";
  /** Reference ID to announce when selected (absent: derived from the address). */
  readonly refId?: number;
  /** Remote address (a reference clock: its pseudo-address). */
  readonly address: SocketAddress;
  /** Address as text. */
  readonly addressText: string;
  /** Configured name, or null. */
  readonly name: string | null;
  /** The source's statistics, which selection reads. */
  readonly stats: SourceStats;
  /** The options in force. */
  readonly params: Readonly<SourceParams>;
  /** Current poll exponent, log2 s. */
  readonly poll: number;
  /** 8-bit reachability register. */
  readonly reachability: number;
  /** Polls shifted into the reachability register so far (0..8). */
  readonly reachabilitySize: number;
  /** Consecutive polls without reply while the register is all zero. */
  readonly unreachableRun: number;
  /** Polls since the last good sample. */
  readonly pollsSinceGoodSample: number;
  /** Operating mode. */
  readonly mode: SourceMode;
  /** True after the source refused service (it sends nothing more). */
  readonly denied: boolean;
  /** Cooked time of the newest good sample, or null. */
  readonly lastSampleTime: Instant | null;
  /** Cooked time of the last transmission, or null (for `wake` with `fromLastTx`). */
  readonly lastTransmit: Instant | null;
  /** Counters: requests sent, replies, valid replies, good samples. */
  readonly counters: { tx: number; rx: number; validRx: number; goodRx: number };
  /** True between `start` (or going online) and `stop`: wake-ups are wanted. */
  readonly running: boolean;

  /** Starts the source. */
  start(ctx: SourceContext): SourceOutcome[];
  /** Stops it: nothing more is sent until it is started again. */
  stop(): void;
  /** The wake-up the source asked for is due. */
  timeout(ctx: SourceContext): SourceOutcome[];
  /** The engine sent (`ok`) or failed to send the packet of `send` outcome `token`. */
  sent(token: number, ok: boolean, txTime: Instant, ctx: SourceContext): SourceOutcome[];
  /** A better transmit time (kernel timestamp, cooked) for the request of `token`. */
  transmitted(token: number, txTime: Instant): void;
  /** The request of `token`, reported sent, did not leave after all. */
  sendFailed(token: number): SourceOutcome[];
  /**
   * A reply to the request of `token` arrived at cooked time `rx` (`rxKernel`: `rx` is the
   * kernel's receive timestamp, not the daemon's reading).
   */
  receive(
    token: number,
    bytes: Uint8Array,
    rx: Instant,
    ctx: SourceContext,
    rxKernel?: boolean,
  ): SourceOutcome[];
  /** True while a reply to `token` is still expected. */
  expects(token: number): boolean;
  /** Sets the source online or offline. */
  setOnline(online: boolean, ctx: SourceContext): SourceOutcome[];
  /** Starts a burst of `good` good samples in at most `total` requests. */
  burst(good: number, total: number): SourceOutcome[];
  /** Changes a numeric option at run time; false if it cannot be changed. */
  modify(field: keyof SourceParams, value: number): boolean;
  /** Drops the sample history (the statistics are reset by the engine). */
  resetHistory(): void;
  /** Sets the reachability register from a dump file (chronyd -r); optional. */
  restoreReachability?(register: number, size: number): void;
  /** Moves stored local timestamps onto the new clock scale after a clock change. */
  applyClockChange(change: ClockChangeEvent): void;
  /** chronyc `ntpdata` for this source. */
  ntpData(now: Instant): NtpDataReport;
}
