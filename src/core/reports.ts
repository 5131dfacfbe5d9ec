/**
 * Report objects: what the engine tells the outside (cmdmon, CLI, logs). They decouple the
 * command protocol from engine internals, as chrony's RPT_* structs do. Values follow the
 * tempus sign convention (see time.ts); cmdmon converts to chrony's signs on the wire.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import type { NtpPacket } from "../ntp/packet.ts";

/** Leap status as reported: 0 normal, 1 insert, 2 delete, 3 unsynchronised. */
export type LeapStatus = 0 | 1 | 2 | 3;

/** chronyc `tracking`. */
export interface TrackingReport {
  /** Reference ID (32-bit). */
  refId: number;
  /** Address of the selected source, or null (local, manual, none). */
  refAddress: string | null;
  /** Our stratum (0 when unsynchronised without a local reference). */
  stratum: number;
  /** Leap status. */
  leapStatus: LeapStatus;
  /** Time of the last reference update (cooked), or 0n if never. */
  refTime: Instant;
  /**
   * Estimated offset of the system clock from true time right now, reference minus system,
   * seconds (> 0: system clock slow). With clock control this is the correction still being
   * slewed; with no clock control (-x) it is the whole virtual correction.
   */
  systemTimeOffset: number;
  /** Offset measured at the last update, seconds (> 0 = we were slow). */
  lastOffset: number;
  /** Long-term RMS of the last offsets, seconds. */
  rmsOffset: number;
  /** Frequency correction applied, ppm, tempus sense (> 0 = clock made faster). */
  freqPpm: number;
  /** Residual frequency of the selected source, ppm, tempus sense. */
  residualFreqPpm: number;
  /** Skew (frequency error bound), ppm. */
  skewPpm: number;
  /** Root delay, seconds. */
  rootDelay: number;
  /** Root dispersion, seconds. */
  rootDispersion: number;
  /** Seconds between the last two reference updates. */
  lastUpdateInterval: number;
  /** True when a reference is selected and the clock is considered synchronised. */
  synchronised: boolean;
}

/** Selection state of one source, as chronyc `sources` shows it. */
export type SourceState =
  | "selected" // *
  | "nonselectable" // ?
  | "falseticker" // x
  | "jittery" // ~
  | "unselected" // + (combined)
  | "selectable"; // -

/** Source mode as chronyc shows it. */
export type SourceMode = "client" | "peer" | "refclock";

/** chronyc `sources`, one row. */
export interface SourceReport {
  /** Stable id of the source inside the engine. */
  id: number;
  /** Address (IP literal) or refclock refid text. */
  address: string;
  /** Configured name, if any (chronyc `sourcename`). */
  name: string | null;
  /** Current poll, log2 seconds. */
  poll: number;
  /** Stratum of the source. */
  stratum: number;
  /** Selection state. */
  state: SourceState;
  /** Mode. */
  mode: SourceMode;
  /** 8-bit reachability register. */
  reachability: number;
  /** Seconds since the last good sample, or null if never. */
  sinceSample: number | null;
  /** Original measured offset of the last sample, seconds (tempus sign). */
  origLatestOffset: number;
  /** Same, adjusted for slews since (tempus sign). */
  latestOffset: number;
  /** Error bound of the last sample: root delay/2 + root dispersion. */
  latestError: number;
}

/** chronyc `sourcestats`, one row. */
export interface SourceStatsReport {
  /** Source id. */
  id: number;
  /** Reference id of the source (for refclocks), else 0. */
  refId: number;
  /** Address. */
  address: string;
  /** Samples in the regression. */
  samples: number;
  /** Runs of residual signs. */
  runs: number;
  /** Seconds spanned by the samples. */
  spanSeconds: number;
  /** Standard deviation of residuals, seconds. */
  stdDev: number;
  /** Residual frequency, ppm, tempus sense. */
  residualFreqPpm: number;
  /** Skew, ppm. */
  skewPpm: number;
  /** Estimated offset now, seconds, tempus sign. */
  estimatedOffset: number;
  /** Error of that estimate, seconds. */
  estimatedOffsetError: number;
  /** Standard deviation of the regression's offset estimate, seconds (statistics.log). */
  offsetSd?: number;
  /** Jitter asymmetry applied to the samples, chrony's sense (statistics.log). */
  asymmetry?: number;
  /**
   * The last regression's stress: how far its frequency moved from the one before, in units
   * of the previous skew (statistics.log).
   */
  stress?: number;
  /** Samples the last regression's runs test dropped from the oldest end (statistics.log Bs). */
  bestStart?: number;
  /** Samples the last regression was fitted on, before that pruning (statistics.log Ns). */
  regressionSamples?: number;
}

/** chronyc `activity`. */
export interface ActivityReport {
  /** Sources online. */
  online: number;
  /** Sources offline. */
  offline: number;
  /** Sources doing a burst, returning online. */
  burstOnline: number;
  /** Sources doing a burst, returning offline. */
  burstOffline: number;
  /** Sources whose address is not yet resolved. */
  unresolved: number;
}

/** chronyc `ntpdata`, one source; the header fields are those of the last reply. */
export interface NtpDataReport extends
  Pick<
    NtpPacket,
    | "leap"
    | "version"
    | "mode"
    | "stratum"
    | "poll"
    | "precision"
    | "rootDelay"
    | "rootDispersion"
    | "refId"
  > {
  /** Remote address. */
  remoteAddress: string;
  /** Remote port. */
  remotePort: number;
  /** Local address used, or "0.0.0.0"/"::" when unknown. */
  localAddress: string;
  /** Reference time of the last reply. */
  refTime: Instant;
  /** Offset, peer delay, peer dispersion, response time, jitter asymmetry (seconds). */
  offset: number;
  /** Peer delay, seconds. */
  peerDelay: number;
  /** Peer dispersion, seconds. */
  peerDispersion: number;
  /** Server processing time T3-T2, seconds. */
  responseTime: number;
  /** Estimated jitter asymmetry (-0.5..0.5). */
  jitterAsymmetry: number;
  /** Test bits: 1,2,3,5,6,7,A,B,C,D in bits 0..9 (1 = passed). */
  tests: number;
  /** Interleaved mode used. */
  interleaved: boolean;
  /** The local transmit time was a kernel timestamp (chronyc's TX timestamping: K, else D). */
  txKernel?: boolean;
  /** The local receive time was a kernel timestamp (chronyc's RX timestamping: K, else D). */
  rxKernel?: boolean;
  /** Authenticated. */
  authenticated: boolean;
  /** Counters. */
  totalTx: number;
  /** Replies received. */
  totalRx: number;
  /** Valid replies received. */
  totalValidRx: number;
  /** Good samples accepted. */
  totalGoodRx: number;
  /** Valid replies to requests sent with a kernel transmit timestamp. */
  totalKernelTx?: number;
  /** Valid replies received with a kernel receive timestamp. */
  totalKernelRx?: number;
  /** The local poll's score after the last reply (chrony's poll_score; measurements.log). */
  pollScore?: number;
  /**
   * Cooked time of the last valid reply's measurement, midway between its local transmit
   * and receive times; client and peer sources only (tempus only: what `recordmeasurements`
   * replays from; not in chronyc's ntpdata).
   */
  sampleTime?: Instant;
}

/** chronyc `selectdata`, one source. */
export interface SelectDataReport {
  /** Source id. */
  id: number;
  /** Address. */
  address: string;
  /** Reference id. */
  refId: number;
  /** chrony status character: N M s r d ~ w S O T x W P U D L + *. */
  stateChar: string;
  /** Authenticated. */
  authenticated: boolean;
  /** Leap status of the source. */
  leap: number;
  /** Configured options bit set: 1 noselect, 2 prefer, 4 trust, 8 require. */
  configuredOptions: number;
  /** Effective options (same bits). */
  effectiveOptions: number;
  /** Seconds since the last sample. */
  lastSampleAgo: number;
  /** Selection score. */
  score: number;
  /** Offset interval low and high limits, seconds (tempus sign). */
  lowLimit: number;
  /** High limit. */
  highLimit: number;
}

/** chronyc `serverstats`. */
export interface ServerStatsReport {
  /** NTP requests received. */
  ntpHits: number;
  /** NTS-KE connections accepted. */
  ntsKeHits: number;
  /** Command requests received. */
  cmdHits: number;
  /** NTP requests dropped by rate limiting. */
  ntpDrops: number;
  /** NTS-KE drops. */
  ntsKeDrops: number;
  /** Command drops. */
  cmdDrops: number;
  /** Client log records dropped (table full). */
  logDrops: number;
  /** Authenticated NTP hits. */
  ntpAuthHits: number;
  /** Interleaved NTP hits. */
  ntpInterleavedHits: number;
  /** Timestamps held for interleaved mode. */
  ntpTimestamps: number;
  /** Span of held timestamps, seconds. */
  ntpSpanSeconds: number;
  /** Daemon-timestamped RX. */
  ntpDaemonRxTimestamps: number;
  /** Daemon-timestamped TX. */
  ntpDaemonTxTimestamps: number;
  /** Kernel RX timestamps. */
  ntpKernelRxTimestamps: number;
  /** Kernel TX timestamps. */
  ntpKernelTxTimestamps: number;
  /** Hardware RX timestamps. */
  ntpHwRxTimestamps: number;
  /** Hardware TX timestamps. */
  ntpHwTxTimestamps: number;
}

/** One entry of the manual sample list. */
export interface ManualSampleReport {
  /** When the entry was made (cooked local time). */
  when: Instant;
  /** Offset as entered, slewed since (seconds, tempus sign). */
  slewedOffset: number;
  /** Offset as originally entered. */
  origOffset: number;
  /** Residual from the regression. */
  residual: number;
}

/** Result of one `settime`. */
export interface ManualTimestampReport {
  /** Offset applied, seconds (tempus sign). */
  offset: number;
  /** Frequency change, ppm (tempus sense). */
  dfreqPpm: number;
  /** New absolute frequency, ppm (tempus sense). */
  newFreqPpm: number;
}

/** chronyc `rtcdata`. */
export interface RtcReport {
  /** Time of the reference sample (Unix seconds). */
  refTime: Instant;
  /** Samples held. */
  samples: number;
  /** Runs in the regression. */
  runs: number;
  /** Seconds spanned. */
  spanSeconds: number;
  /** Seconds the RTC is fast at the reference time. */
  rtcSecondsFast: number;
  /** RTC gain rate, ppm (> 0 = RTC gains). */
  rtcGainRatePpm: number;
}

/** Server-side per-client record (chronyc `clients`). */
export interface ClientAccessReport {
  /** Client address. */
  address: string;
  /** NTP requests. */
  ntpHits: number;
  /** NTP drops. */
  ntpDrops: number;
  /** Command requests. */
  cmdHits: number;
  /** Command drops. */
  cmdDrops: number;
  /** Average NTP request interval, log2 s (127 = unknown). */
  ntpInterval: number;
  /** Average command interval, log2 s (127 = unknown). */
  cmdInterval: number;
  /** Seconds since the last NTP request (or 0xffffffff). */
  lastNtpHitAgo: number;
  /** Seconds since the last command (or 0xffffffff). */
  lastCmdHitAgo: number;
}
