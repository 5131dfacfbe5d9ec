/**
 * Every default of tempus in one place, each named after the chrony directive it mirrors.
 * Values follow chrony 4.x (conf.c, srcparams.h) unless a comment says why not.
 *
 * @module
 */
import type { Config, LocalConfig, RateLimitConfig, SourceParams } from "./model.ts";

/** Defaults of server/pool/peer options. */
export const DEFAULT_SOURCE_PARAMS: Readonly<SourceParams> = Object.freeze({
  minPoll: 6, // minpoll
  maxPoll: 10, // maxpoll
  pollTarget: 8, // polltarget
  iburst: false,
  burst: false,
  presend: null,
  offline: false,
  autoOffline: false,
  prefer: false,
  noselect: false,
  trust: false,
  require: false,
  maxDelay: 3.0, // maxdelay
  maxDelayRatio: 0.0, // maxdelayratio (off)
  maxDelayDevRatio: 10.0, // maxdelaydevratio
  minDelay: null,
  asymmetry: null,
  offset: 0.0,
  minSamples: null,
  maxSamples: null,
  maxUnreach: 100000, // maxunreach
  filter: null,
  minStratum: 0,
  port: 123,
  version: 4,
  key: null,
  maxSources: 4, // maxsources (pool)
  xleave: false,
});

/**
 * Source options that are absent from `DEFAULT_SOURCE_PARAMS` when not given (absent: off,
 * or their default): `nts` (off), `ntsport` (4460) and `delaygate` (off).
 */
export const OPTIONAL_SOURCE_PARAMS: ReadonlySet<keyof SourceParams> = new Set<keyof SourceParams>([
  "nts",
  "ntsPort",
  "delayGate",
]);

/** `local` without options: stratum 10, distance 1 s. */
export const DEFAULT_LOCAL: Readonly<LocalConfig> = Object.freeze({
  stratum: 10,
  distance: 1.0,
  orphan: false,
  waitUnsynced: 0,
  waitSynced: 0,
  activate: 0,
});

/** Seconds an orphan-mode local reference waits while unsynchronised. */
export const ORPHAN_WAIT_UNSYNCED = 300;

/** `ratelimit` without options. */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimitConfig> = Object.freeze({
  interval: 3,
  burst: 8,
  leak: 2,
  kod: 0,
});

/** The chrony run directory under which the Unix command socket lives by default. */
export const DEFAULT_RUN_DIR = "/var/run/tempus";

/** Where `tempus now` reads the error-bound page unless told otherwise (errorboundfile). */
export const DEFAULT_ERROR_BOUND_FILE = `${DEFAULT_RUN_DIR}/errorbound`;

/** Where state (driftfile, rtcfile) lives in the embedded default config. */
export const DEFAULT_STATE_DIR = "/var/lib/tempus";

/** A Config with every field at its chrony default and no sources. */
export function defaultConfig(): Config {
  return {
    sources: [],
    refclocks: [],
    driftFile: null,
    driftFileInterval: 3600,
    makeStep: null, // never step after start-up unless configured
    maxSlewRate: 1e6 / 12, // 83333.333 ppm
    maxUpdateSkew: 1000,
    maxChange: null,
    // chrony 4.x conf.c and chrony.conf(5): 500000 ppm, so the driver's limit (100000 ppm on
    // Linux) is what binds by default. (Was 100000; effective limit unchanged on Linux.)
    maxDrift: 500000,
    maxClockError: 1,
    corrTimeRatio: 3,
    clockPrecision: null,
    maxDistance: 3,
    maxJitter: 1,
    minSources: 1,
    maxStratum: 15,
    reselectDist: 1e-4,
    stratumWeight: 1e-3,
    combineLimit: 3,
    minSamples: 6,
    maxSamples: 0,
    fallbackDrift: null,
    leapSecMode: "system",
    leapSecTz: null,
    leapSecList: null,
    local: null,
    manual: false,
    rtcSync: false,
    rtcFile: null,
    rtcDevice: "/dev/rtc0",
    rtcOnUtc: false,
    rtcAutoTrim: 0,
    hwclockFile: null,
    port: 123,
    bindAddresses: [],
    ntpAccess: [],
    rateLimit: null,
    clientLogLimit: 524288,
    noClientLog: false,
    cmdPort: 323,
    bindCmdAddresses: ["127.0.0.1", "::1"],
    cmdAccess: [],
    cmdSocket: `${DEFAULT_RUN_DIR}/tempus.sock`,
    logDir: null,
    logKinds: [],
    logBanner: 32,
    logChange: 1.0,
    pidFile: `${DEFAULT_RUN_DIR}/tempus.pid`,
    dumpDir: null,
    user: null,
    acquisitionPort: 0,
    keyFile: null,
    refresh: 1209600,
    bindAcqAddresses: [],
    bindDevice: null,
    bindAcqDevice: null,
    bindCmdDevice: null,
    dscp: 0,
    tempComp: null,
    // tempus-only (no chrony directive): ntpd-rs's metrics exporter listens on loopback only.
    metricsPort: 0, // metricsport: off unless configured
    bindMetricsAddress: "127.0.0.1", // bindmetricsaddress
    errorBoundFile: null, // errorboundfile: off unless configured (AWS ClockBound's job)
    smoothTime: null, // smoothtime: off (chrony's default)
    recordMeasurements: null, // recordmeasurements: off
    xdpServer: null, // xdpserver: off (answering in the kernel is asked for by interface)
    xdpMode: "auto", // xdpmode: native XDP where the driver has it
  };
}

/** The embedded default configuration, in chrony.conf syntax (what `tempus daemon` runs). */
export const EMBEDDED_DEFAULT_CONF = `# tempus embedded default configuration
pool pool.ntp.org iburst
driftfile ${DEFAULT_STATE_DIR}/drift
makestep 1.0 3
rtcsync
`;
