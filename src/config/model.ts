/**
 * The one typed configuration model of tempus, shared by the chrony.conf parser, the TOML
 * mapping, the engine and the daemon. Every default lives in `defaults.ts`, named after the
 * chrony directive it mirrors.
 *
 * @module
 */
import type { NtsConfig } from "./nts_config.ts";

import type { BroadcastConfig } from "./model_broadcast.ts";

/** How a source is specified. */
export type SourceType = "server" | "pool" | "peer";

/** Selection options a server, pool, peer and refclock all take. */
export interface SelectionOptions {
  /** prefer. */
  prefer: boolean;
  /** noselect. */
  noselect: boolean;
  /** trust. */
  trust: boolean;
  /** require. */
  require: boolean;
  /** minsamples (null = global). */
  minSamples: number | null;
  /** maxsamples (null = global). */
  maxSamples: number | null;
  /** maxunreach: polls an unreachable source stays selectable. */
  maxUnreach: number;
}

/** Per-source options (chrony's server/pool/peer options). */
export interface SourceParams extends SelectionOptions {
  /** minpoll, log2 s (-7..24). */
  minPoll: number;
  /** maxpoll, log2 s. */
  maxPoll: number;
  /** polltarget: samples wanted in the regression window (6..60). */
  pollTarget: number;
  /** iburst: burst of 4-8 requests at start and on going online. */
  iburst: boolean;
  /** burst: a short burst at each poll. */
  burst: boolean;
  /** presend N: extra warm-up request when poll >= N (null = off). */
  presend: number | null;
  /** offline: start offline. */
  offline: boolean;
  /** auto_offline: go offline when sending fails. */
  autoOffline: boolean;
  /** maxdelay, seconds. */
  maxDelay: number;
  /** maxdelayratio (0 = off). */
  maxDelayRatio: number;
  /** maxdelaydevratio. */
  maxDelayDevRatio: number;
  /** mindelay, seconds (null = measured). */
  minDelay: number | null;
  /** asymmetry: fixed jitter asymmetry in [-0.5, 0.5], or null to estimate it. */
  asymmetry: number | null;
  /** offset: correction added to measured offsets, seconds. */
  offset: number;
  /** filter N: median filter length (null = off). */
  filter: number | null;
  /** minstratum. */
  minStratum: number;
  /** port. */
  port: number;
  /** NTP version to send (4 by default). */
  version: number;
  /** key ID for symmetric-key MAC (null = none). */
  key: number | null;
  /** maxsources (pool only). */
  maxSources: number;
  /** xleave (interleaved mode). */
  xleave: boolean;
  /** nts: authenticate with Network Time Security (absent: false). */
  nts?: boolean;
  /** ntsport: the NTS-KE port of an `nts` source (absent: 4460). */
  ntsPort?: number;
  /**
   * delaygate (tempus): hold back a reply slower than the source's newest ones at polls of
   * 8 s and less, weight delay more steeply, look for rate changes on fewer samples and poll
   * at minpoll after one (core/source/sample_intake.ts; absent: false, chrony's tests alone).
   */
  delayGate?: boolean;
}

/** One configured source. */
export interface SourceConfig {
  /** server, pool or peer. */
  type: SourceType;
  /** Host name or address. */
  name: string;
  /** Options. */
  params: SourceParams;
  /** Where it was written, for messages ("file:line"). */
  origin: string;
}

/** Reference clock drivers tempus implements. */
export type RefclockDriver = "SHM" | "SOCK" | "PPS" | "PHC" | "RTC" | "NMEA";

/** One `refclock DRIVER PARAM [OPTIONS]` (chrony's RefclockParameters, the options tempus has). */
export interface RefclockConfig extends SelectionOptions {
  /** Driver name. */
  driver: RefclockDriver;
  /** Driver parameter: SHM unit number, SOCK socket path. */
  parameter: string;
  /** poll: log2 s between filtered samples (chrony default 4). */
  poll: number;
  /** dpoll: log2 s between driver reads (SHM; chrony default 0). */
  dpoll: number;
  /** filter: samples held by the median filter (chrony default 64). */
  filter: number;
  /** refid: up to four characters (null: driver name + index, e.g. "SHM0"). */
  refId: string | null;
  /** offset added to the samples, seconds. */
  offset: number;
  /** delay of the samples (root delay), seconds (chrony default 1e-9). */
  delay: number;
  /** precision of the refclock, seconds (0: the local clock's). */
  precision: number;
  /** stratum reported for the refclock (0..15; tempus serves one more). */
  stratum: number;
  /** maxdispersion of a filtered sample, seconds (0: no limit). */
  maxDispersion: number;
  /** lock REFID: pulses take their seconds from this refclock (null: from the reference). */
  lock: string | null;
  /** rate: pulses per second (chrony default 1). */
  rate: number;
  /** pps: the driver's samples are pulses (only their sub-second part counts). */
  pps: boolean;
  /** width: pulse width, seconds (0: both edges accepted). */
  width: number;
  /** maxlockage: pulses a lock sample stays usable for (chrony default 2). */
  maxLockAge: number;
  /** tai: the device gives TAI, converted to UTC with the leap-second table. */
  tai: boolean;
  /**
   * local: an unsynchronised clock more stable than the system clock (TCXO, OCXO, atomic);
   * never selected, it steadies the system clock's frequency (chrony 4.3's refclock local).
   */
  local: boolean;
  /** Where it was written ("file:line"). */
  origin: string;
}

/** `makestep THRESHOLD LIMIT`; limit < 0 means always, 0 means never. */
export interface MakeStepConfig {
  /** Step when |offset| exceeds this, seconds. */
  threshold: number;
  /** Number of clock updates during which stepping is allowed (< 0 = unlimited). */
  limit: number;
}

/** `maxchange OFFSET START IGNORE`. */
export interface MaxChangeConfig {
  /** Largest offset accepted after `start` updates, seconds. */
  offset: number;
  /** Updates before the check applies. */
  start: number;
  /** Times a larger offset is ignored before tempus exits (< 0 = never exits). */
  ignore: number;
}

/** `fallbackdrift MIN MAX` (log2 seconds). */
export interface FallbackDriftConfig {
  /** Smallest interval, log2 s. */
  min: number;
  /** Largest interval, log2 s. */
  max: number;
}

/** `local [stratum N] [distance D] [orphan] ...`. */
export interface LocalConfig {
  /** Stratum to serve while using the local reference. */
  stratum: number;
  /** Root distance threshold to activate. */
  distance: number;
  /** Orphan mode (RFC 5905 style). */
  orphan: boolean;
  /** Seconds to wait while unsynchronised before activating (orphan: 300). */
  waitUnsynced: number;
  /** Seconds of synchronisation required before activating. */
  waitSynced: number;
  /** Activation threshold on root distance (0 = always). */
  activate: number;
}

/** `ratelimit interval I burst B leak L kod K`. */
export interface RateLimitConfig {
  /** Minimum mean interval between responses, log2 s. */
  interval: number;
  /** Burst of responses allowed. */
  burst: number;
  /** Leak rate: 1 in 2^leak requests answered anyway. */
  leak: number;
  /** Send a KoD RATE instead of dropping, 1 in 2^kod (0 = never). */
  kod: number;
}

/** One allow/deny rule in order. */
export interface AccessRule {
  /** allow or deny. */
  allow: boolean;
  /** Subnet in CIDR form ("192.168.1.0/24", "::/0") or "all" for every address. */
  subnet: string;
  /** `allow all` / `deny all` (overrides more specific earlier rules). */
  all: boolean;
}

/** Leap second handling mode. */
export type LeapSecMode = "system" | "step" | "slew" | "ignore";

/** Log file kinds of the `log` directive. */
export type LogKind =
  | "measurements"
  | "statistics"
  | "tracking"
  | "rtc"
  | "refclocks"
  | "rawmeasurements"
  | "selection"
  | "tempcomp";

/** tempcomp: temperature compensation of the clock's frequency (chrony's TMC). */
export interface TempCompConfig {
  /** File whose first number is the temperature (a sensor file under /sys). */
  file: string;
  /** Seconds between readings. */
  interval: number;
  /** File of "temperature compensation" points, or null for the quadratic. */
  pointFile: string | null;
  /** Quadratic: comp = k0 + (T - t0) k1 + (T - t0)^2 k2, ppm. */
  t0: number;
  /** Constant term, ppm. */
  k0: number;
  /** Linear term, ppm per degree. */
  k1: number;
  /** Quadratic term, ppm per degree squared. */
  k2: number;
}

/** Everything tempus can be configured with. */
export interface Config {
  /** Sources in configuration order. */
  sources: SourceConfig[];
  /** Reference clocks (`refclock`), in order. */
  refclocks: RefclockConfig[];
  /** driftfile path (null = none) and its update interval in seconds. */
  driftFile: string | null;
  /** driftfile interval, seconds. */
  driftFileInterval: number;
  /** makestep (null = never step after start-up). */
  makeStep: MakeStepConfig | null;
  /** maxslewrate, ppm. */
  maxSlewRate: number;
  /** maxupdateskew, ppm. */
  maxUpdateSkew: number;
  /** maxchange (null = off). */
  maxChange: MaxChangeConfig | null;
  /** maxdrift, ppm. */
  maxDrift: number;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /** corrtimeratio. */
  corrTimeRatio: number;
  /** clockprecision, seconds (null = measured). */
  clockPrecision: number | null;
  /** maxdistance, seconds. */
  maxDistance: number;
  /** maxjitter, seconds. */
  maxJitter: number;
  /** minsources. */
  minSources: number;
  /** maxstratum / minstratum for selection. */
  maxStratum: number;
  /** reselectdist, seconds. */
  reselectDist: number;
  /** stratumweight, seconds. */
  stratumWeight: number;
  /** combinelimit. */
  combineLimit: number;
  /** minsamples (global). */
  minSamples: number;
  /** maxsamples (global, 0 = no limit beyond 64). */
  maxSamples: number;
  /** fallbackdrift (null = off). */
  fallbackDrift: FallbackDriftConfig | null;
  /** leapsecmode. */
  leapSecMode: LeapSecMode;
  /** leapsectz zone name (null = none). */
  leapSecTz: string | null;
  /** leapseclist file (null = none). */
  leapSecList: string | null;
  /** local reference (null = off). */
  local: LocalConfig | null;
  /** manual: allow settime. */
  manual: boolean;
  /** rtcsync: kernel 11-minute mode. */
  rtcSync: boolean;
  /** rtcfile path (null = no RTC tracking). */
  rtcFile: string | null;
  /** rtcdevice path. */
  rtcDevice: string;
  /** rtconutc. */
  rtcOnUtc: boolean;
  /** rtcautotrim threshold, seconds (0 = off). */
  rtcAutoTrim: number;
  /** hwclockfile (/etc/adjtime style), or null. */
  hwclockFile: string | null;
  /** NTP server port (0 = no server). */
  port: number;
  /** bindaddress list (empty = any). */
  bindAddresses: string[];
  /** allow/deny rules for NTP clients, in order (default: serve nobody). */
  ntpAccess: AccessRule[];
  /** ratelimit (null = off). */
  rateLimit: RateLimitConfig | null;
  /** clientloglimit, bytes. */
  clientLogLimit: number;
  /** noclientlog. */
  noClientLog: boolean;
  /** cmdport (0 = no UDP command socket). */
  cmdPort: number;
  /** bindcmdaddress list: IP literals and/or one Unix socket path ("/"-prefixed). */
  bindCmdAddresses: string[];
  /** cmdallow/cmddeny rules (loopback is always allowed). */
  cmdAccess: AccessRule[];
  /** Unix command socket path (null = disabled). */
  cmdSocket: string | null;
  /** logdir (null = no log files). */
  logDir: string | null;
  /** log kinds enabled. */
  logKinds: LogKind[];
  /** logbanner: repeat the column header every N lines (0 = never). */
  logBanner: number;
  /** logchange threshold, seconds. */
  logChange: number;
  /** pidfile path (null = none). */
  pidFile: string | null;
  /** dumpdir (null = none). */
  dumpDir: string | null;
  /** user to switch to after binding sockets (null = stay). */
  user: string | null;
  /** acquisitionport (0 = random per request). */
  acquisitionPort: number;
  /** keyfile (null = none). */
  keyFile: string | null;
  /** refresh interval, seconds. */
  refresh: number;
  /**
   * sourcedir directories (*.sources files, re-read by `reload sources`), in order.
   * Added by the config owner; optional so existing Config literals stay valid.
   */
  sourceDirs?: string[];
  /** bindacqaddress: source addresses of client requests, one per family (empty = any). */
  bindAcqAddresses?: string[];
  /** binddevice: interface the NTP server sockets are bound to (SO_BINDTODEVICE). */
  bindDevice?: string | null;
  /**
   * xdpserver (tempus-only): interfaces on which plain IPv4 client requests are answered in
   * the kernel by an XDP program (src/io/xdp/); null = off.
   */
  xdpServer?: string[] | null;
  /**
   * xdpmode (tempus-only): how the program is attached: "auto" (native where the driver has
   * XDP, else generic), "native", "generic" (SKB mode, any interface), or "tc" (tcx ingress:
   * after the stack's receive timestamp, which it serves).
   */
  xdpMode?: "auto" | "native" | "generic" | "tc";
  /** bindacqdevice: interface the client request sockets are bound to. */
  bindAcqDevice?: string | null;
  /** bindcmddevice: interface the UDP command sockets are bound to. */
  bindCmdDevice?: string | null;
  /** dscp: DSCP of NTP packets sent (server and client sockets), 0 = the default. */
  dscp?: number;
  /** tempcomp, or null. */
  tempComp?: TempCompConfig | null;
  /**
   * metricsport: TCP port of the Prometheus metrics endpoint (0 = off). tempus-only (ntpd-rs's
   * metrics exporter); optional so existing Config literals stay valid (default in defaults.ts).
   */
  metricsPort?: number;
  /**
   * mode6allow/mode6deny: who may query the NTP mode 6 (ntpq) responder, in order, on top
   * of loopback (allowed unless denied here). tempus-only (ntpd's `restrict ... noquery`);
   * optional so existing Config literals stay valid. See config/directives_mode6.ts.
   */
  mode6Access?: AccessRule[];
  /** bindmetricsaddress: the address the metrics endpoint listens on (default 127.0.0.1). */
  bindMetricsAddress?: string;
  /**
   * errorboundfile: where the daemon publishes the clock's error bound for applications (a
   * one-page file read under a sequence lock, `tempus now`), or null for none. tempus-only.
   */
  errorBoundFile?: string | null;
  /**
   * recordmeasurements: a file where every accepted sample is appended (JSON lines, full
   * precision) for `tempus replay`, or null. tempus-only.
   */
  recordMeasurements?: string | null;
  /**
   * smoothtime max-freq max-wander [leaponly]: smoothing of the time served to NTP clients,
   * or null (chrony's default: off). Optional so existing Config literals stay valid.
   */
  smoothTime?: SmoothTimeConfig | null;
  /** The NTS directives (src/config/nts_config.ts); absent: every default. */
  nts?: NtsConfig;
  /** broadcast, multicast and manycast (model_broadcast.ts); absent: none of them. */
  broadcast?: BroadcastConfig;
}

/** chrony's `smoothtime` (core/smoothing.ts). */
export interface SmoothTimeConfig {
  /** Largest frequency offset of the served time, ppm. */
  maxFreqPpm: number;
  /** Largest rate of change of that frequency, ppm per second. */
  maxWanderPpm: number;
  /** Smooth only leap seconds. */
  leapOnly: boolean;
}
