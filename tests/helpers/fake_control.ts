/**
 * A fake `EngineControl` with realistic values for cmdmon tests: it records every call so
 * tests can assert which commands reached the engine.
 *
 * @module
 */
import type { ControlResult, EngineControl } from "../../src/core/control.ts";
import type {
  ActivityReport,
  ClientAccessReport,
  ManualSampleReport,
  NtpDataReport,
  SelectDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../../src/core/reports.ts";

/** One recorded call: method name and arguments. */
export interface RecordedCall {
  /** Method name. */
  method: string;
  /** Arguments. */
  args: unknown[];
}

/** Reference time used by the fake: 2026-11-24T10:00:00.25Z. */
export const FAKE_REF_TIME = 1795514400_250_000_000n;

/** The fake's tracking report (tempus signs). */
export function fakeTracking(): TrackingReport {
  return {
    refId: 0xc0000201,
    refAddress: "192.0.2.1",
    stratum: 3,
    leapStatus: 0,
    refTime: FAKE_REF_TIME,
    systemTimeOffset: 0.000012345, // system clock 12.345 us slow
    lastOffset: -0.000023456, // we were 23.456 us fast
    rmsOffset: 0.000034567,
    freqPpm: 12.5, // clock made 12.5 ppm faster => chrony "12.500 ppm slow"
    residualFreqPpm: 0.011,
    skewPpm: 0.123,
    rootDelay: 0.012345678,
    rootDispersion: 0.001234567,
    lastUpdateInterval: 64.2,
    synchronised: true,
  };
}

/** The fake's sources. */
export function fakeSources(): SourceReport[] {
  return [
    {
      id: 1,
      address: "192.0.2.1",
      name: "ntp1.example.net",
      poll: 6,
      stratum: 2,
      state: "selected",
      mode: "client",
      reachability: 0o377,
      sinceSample: 35,
      origLatestOffset: -0.000150,
      latestOffset: -0.000120,
      latestError: 0.0052,
    },
    {
      id: 2,
      address: "2001:db8::7",
      name: null,
      poll: 7,
      stratum: 1,
      state: "unselected",
      mode: "client",
      reachability: 0o17,
      sinceSample: 1500,
      origLatestOffset: 0.0021,
      latestOffset: 0.0019,
      latestError: 0.031,
    },
  ];
}

/** The fake's sourcestats. */
export function fakeSourceStats(): SourceStatsReport[] {
  return [
    {
      id: 1,
      refId: 0,
      address: "192.0.2.1",
      samples: 12,
      runs: 7,
      spanSeconds: 700,
      stdDev: 0.000045,
      residualFreqPpm: 0.021,
      skewPpm: 0.345,
      estimatedOffset: -0.000101,
      estimatedOffsetError: 0.00002,
    },
    {
      id: 2,
      refId: 0,
      address: "2001:db8::7",
      samples: 5,
      runs: 4,
      spanSeconds: 400,
      stdDev: 0.0011,
      residualFreqPpm: -1.234,
      skewPpm: 5.678,
      estimatedOffset: 0.0015,
      estimatedOffsetError: 0.0003,
    },
  ];
}

/** The fake's selectdata. */
export function fakeSelectData(): SelectDataReport[] {
  return [
    {
      id: 1,
      address: "192.0.2.1",
      refId: 0,
      stateChar: "*",
      authenticated: false,
      leap: 0,
      configuredOptions: 2,
      effectiveOptions: 2,
      lastSampleAgo: 35,
      score: 1.5,
      lowLimit: -0.0003,
      highLimit: 0.0001,
    },
    {
      id: 2,
      address: "2001:db8::7",
      refId: 0,
      stateChar: "+",
      authenticated: true,
      leap: 1,
      configuredOptions: 0,
      effectiveOptions: 4,
      lastSampleAgo: 1500,
      score: 3.25,
      lowLimit: 0.0012,
      highLimit: 0.0025,
    },
  ];
}

/** The fake's ntpdata for 192.0.2.1. */
export function fakeNtpData(): NtpDataReport {
  return {
    remoteAddress: "192.0.2.1",
    remotePort: 123,
    localAddress: "192.0.2.200",
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    poll: 6,
    precision: -23,
    rootDelay: 0.0012,
    rootDispersion: 0.0034,
    refId: 0xc6336401,
    refTime: FAKE_REF_TIME,
    offset: 0.000321, // local 321 us slow (RFC sign)
    peerDelay: 0.000456,
    peerDispersion: 0.000012,
    responseTime: 0.000021,
    jitterAsymmetry: 0.12,
    tests: 0x3ff,
    interleaved: false,
    authenticated: false,
    totalTx: 100,
    totalRx: 98,
    totalValidRx: 97,
    totalGoodRx: 96,
  };
}

/** The fake's server statistics. */
export function fakeServerStats(): ServerStatsReport {
  return {
    ntpHits: 1234,
    ntsKeHits: 0,
    cmdHits: 56,
    ntpDrops: 7,
    ntsKeDrops: 0,
    cmdDrops: 1,
    logDrops: 2,
    ntpAuthHits: 3,
    ntpInterleavedHits: 4,
    ntpTimestamps: 5,
    ntpSpanSeconds: 6,
    ntpDaemonRxTimestamps: 1234,
    ntpDaemonTxTimestamps: 1230,
    ntpKernelRxTimestamps: 0,
    ntpKernelTxTimestamps: 0,
    ntpHwRxTimestamps: 0,
    ntpHwTxTimestamps: 0,
  };
}

/** The fake's activity. */
export function fakeActivity(): ActivityReport {
  return { online: 2, offline: 1, burstOnline: 0, burstOffline: 0, unresolved: 1 };
}

/** A fake engine control recording every call. */
export class FakeControl implements EngineControl {
  /** Calls made, in order. */
  calls: RecordedCall[] = [];
  /** Tracking report returned (mutable by tests). */
  trackingReport: TrackingReport = fakeTracking();
  /** Whether manual input is on. */
  manualOn = false;

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  private ok(method: string, ...args: unknown[]): ControlResult {
    this.record(method, ...args);
    return { ok: true };
  }

  /** Names of the recorded methods. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  tracking(): TrackingReport {
    this.record("tracking");
    return this.trackingReport;
  }
  sources(): SourceReport[] {
    return fakeSources();
  }
  sourceStats(): SourceStatsReport[] {
    return fakeSourceStats();
  }
  selectData(): SelectDataReport[] {
    return fakeSelectData();
  }
  activity(): ActivityReport {
    return fakeActivity();
  }
  ntpData(address: string): NtpDataReport | null {
    return address === "192.0.2.1" ? fakeNtpData() : null;
  }
  serverStats(): ServerStatsReport {
    return fakeServerStats();
  }
  clients(): ClientAccessReport[] {
    return [{
      address: "192.0.2.50",
      ntpHits: 10,
      ntpDrops: 1,
      cmdHits: 0,
      cmdDrops: 0,
      ntpInterval: 6,
      cmdInterval: 127,
      lastNtpHitAgo: 12,
      lastCmdHitAgo: 0xffffffff,
    }];
  }
  sourceName(address: string): string | null {
    return fakeSources().find((s) => s.address === address)?.name ?? null;
  }
  rtcReport() {
    return null;
  }
  manualList(): ManualSampleReport[] {
    return [];
  }
  makeStepNow(): ControlResult {
    return this.ok("makeStepNow");
  }
  modifyMakeStep(threshold: number, limit: number): ControlResult {
    return this.ok("modifyMakeStep", threshold, limit);
  }
  burst(match: unknown, good: number, total: number): ControlResult {
    return this.ok("burst", match, good, total);
  }
  setConnectivity(match: unknown, online: boolean): ControlResult {
    return this.ok("setConnectivity", match, online);
  }
  onOffline(): ControlResult {
    return this.ok("onOffline");
  }
  manual(mode: "on" | "off" | "reset"): ControlResult {
    this.manualOn = mode === "on" ? true : mode === "off" ? false : this.manualOn;
    return this.ok("manual", mode);
  }
  manualDelete(index: number): ControlResult {
    this.record("manualDelete", index);
    return { ok: false, status: "badsample" };
  }
  setTime(trueTime: bigint) {
    this.record("setTime", trueTime);
    if (!this.manualOn) return { ok: false as const, status: "notenabled" as const };
    return { ok: true as const, report: { offset: -1.5, dfreqPpm: 0, newFreqPpm: 12.5 } };
  }
  addSource(request: unknown): ControlResult | Promise<ControlResult> {
    return Promise.resolve(this.ok("addSource", request));
  }
  deleteSource(address: string): ControlResult {
    return this.ok("deleteSource", address);
  }
  ntpAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult {
    return this.ok("ntpAccess", subnet, allow, all);
  }
  cmdAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult {
    return this.ok("cmdAccess", subnet, allow, all);
  }
  ntpAccessCheck(address: string): boolean {
    this.record("ntpAccessCheck", address);
    return address.startsWith("192.0.2.");
  }
  cmdAccessCheck(address: string): boolean {
    this.record("cmdAccessCheck", address);
    return false;
  }
  reselect(): ControlResult {
    return this.ok("reselect");
  }
  reselectDistance(distance: number): ControlResult {
    return this.ok("reselectDistance", distance);
  }
  maxUpdateSkew(ppm: number): ControlResult {
    return this.ok("maxUpdateSkew", ppm);
  }
  modifySource(address: string, field: string, value: number): ControlResult {
    return this.ok("modifySource", address, field, value);
  }
  refresh(): ControlResult {
    return this.ok("refresh");
  }
  resetSources(): ControlResult {
    return this.ok("resetSources");
  }
  dump(): ControlResult {
    return this.ok("dump");
  }
  cycleLogs(): ControlResult {
    return this.ok("cycleLogs");
  }
  writeRtc(): ControlResult {
    this.record("writeRtc");
    return { ok: false, status: "nortc" };
  }
  trimRtc(): ControlResult {
    this.record("trimRtc");
    return { ok: false, status: "nortc" };
  }
  adjustFrequency(dfreqPpm: number): ControlResult {
    return this.ok("adjustFrequency", dfreqPpm);
  }
  adjustOffset(offset: number): ControlResult {
    return this.ok("adjustOffset", offset);
  }
  local(enabled: boolean, stratum?: number, distance?: number, orphan?: boolean): ControlResult {
    return this.ok("local", enabled, stratum, distance, orphan);
  }
  shutdown(): ControlResult {
    return this.ok("shutdown");
  }
}

/** Methods of EngineControl that change state (privileged). */
export const PRIVILEGED_METHODS = new Set([
  "makeStepNow",
  "modifyMakeStep",
  "burst",
  "setConnectivity",
  "onOffline",
  "manual",
  "manualDelete",
  "setTime",
  "addSource",
  "deleteSource",
  "ntpAccess",
  "cmdAccess",
  "reselect",
  "reselectDistance",
  "maxUpdateSkew",
  "modifySource",
  "refresh",
  "resetSources",
  "dump",
  "cycleLogs",
  "writeRtc",
  "trimRtc",
  "adjustFrequency",
  "adjustOffset",
  "local",
  "shutdown",
]);
