/**
 * The daemon's `EngineControl`: what chronyc-style commands reach. Engine-level reports and
 * commands are delegated to the engine; the rest (server statistics, access tables, names,
 * logs, RTC, shutdown) belong to the daemon and are composed here.
 *
 * @module
 */
import type {
  AddSourceRequest,
  AuthDataReport,
  ControlResult,
  EngineControl,
  SourceMatch,
} from "../core/control.ts";
import type {
  ActivityReport,
  ClientAccessReport,
  ManualSampleReport,
  ManualTimestampReport,
  NtpDataReport,
  RtcReport,
  SelectDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../core/reports.ts";
import type { SmoothingReport } from "../core/smoothing.ts";
import type { Instant } from "../base/time.ts";
import { MODIFIABLE_FIELDS, type ModifiableField } from "../core/engine/engine.ts";

/** The engine-level part of `EngineControl` that the engine itself implements. */
export type EngineSide = EngineReportsAndCommands & {
  /** Changes a source option at run time. */
  modifySource(address: string, field: ModifiableField, value: number): ControlResult;
};

/** The reports and commands the engine answers with EngineControl's signatures. */
export type EngineReportsAndCommands = Pick<
  EngineControl,
  | "tracking"
  | "sources"
  | "sourceStats"
  | "selectData"
  | "activity"
  | "ntpData"
  | "makeStepNow"
  | "modifyMakeStep"
  | "burst"
  | "setConnectivity"
  | "onOffline"
  | "reselect"
  | "reselectDistance"
  | "maxUpdateSkew"
  | "resetSources"
  | "adjustFrequency"
  | "adjustOffset"
  | "local"
>;

/** chronyc's names of the run-time source options (and the field names themselves). */
const CHRONYC_MODIFY_FIELDS: ReadonlyMap<string, ModifiableField> = new Map(
  MODIFIABLE_FIELDS.flatMap((f) => [[f.toLowerCase(), f], [f, f]] as const),
);

/** Local addresses the engine reports when it does not know the one used. */
const UNSPECIFIED = new Set(["0.0.0.0", "::"]);

/** The manual-input part (engine or daemon provides it). */
export type ManualSide = Pick<EngineControl, "manual" | "manualDelete" | "manualList" | "setTime">;

/** The daemon-level services the control composes. */
export interface DaemonServices {
  /** Adjusts the tracking report (e.g. -x: system time offset from the null driver). */
  adjustTracking?: (report: TrackingReport) => TrackingReport;
  /** Unresolved source names (added to `activity`). */
  unresolvedSources: () => number;
  /** serverstats. */
  serverStats: () => ServerStatsReport;
  /** clients. */
  clients: () => ClientAccessReport[];
  /** Configured name of the source at an address. */
  sourceName: (address: string) => string | null;
  /** Adds a source at run time (511 at once for an address in use). */
  addSource: (request: AddSourceRequest) => ControlResult | Promise<ControlResult>;
  /** `authdata` of the source at an address (absent: every source unauthenticated). */
  authData?: (address: string) => AuthDataReport | null;
  /** `rekey` (absent: fails). */
  rekey?: () => ControlResult;
  /** `reload sources` (absent: fails). */
  reloadSources?: () => ControlResult;
  /** `onoffline` by routes (absent: the engine's, every source online). */
  onOffline?: () => ControlResult;
  /** `makestep` when the daemon decides it (-x: no clock to step); absent: the engine's. */
  makeStepNow?: () => ControlResult;
  /** The local address used to reach a remote address (ntpdata), or null if unknown. */
  localAddressFor?: (remote: string) => string | null;
  /** Deletes the source at an address. */
  deleteSource: (address: string) => ControlResult;
  /** NTP allow/deny at run time. */
  ntpAccess: (subnet: string | null, allow: boolean, all: boolean) => ControlResult;
  /** cmdallow/cmddeny at run time. */
  cmdAccess: (subnet: string | null, allow: boolean, all: boolean) => ControlResult;
  /** Is NTP service allowed for this address? */
  ntpAccessCheck: (address: string) => boolean;
  /** Is command access allowed for this address? */
  cmdAccessCheck: (address: string) => boolean;
  /** Re-resolve names. */
  refresh: () => ControlResult;
  /** Write sample histories. */
  dump: () => ControlResult;
  /** Reopen log files. */
  cycleLogs: () => ControlResult;
  /** RTC report (null: RTC tracking off). */
  rtcReport: () => RtcReport | null;
  /** Write the RTC parameters file. */
  writeRtc: () => ControlResult;
  /** Trim the RTC. */
  trimRtc: () => ControlResult;
  /** Shut the daemon down. */
  shutdown: () => ControlResult;
  /** `smoothing` (ops: smoothtime; absent or null when not configured). */
  smoothing?: () => SmoothingReport | null;
  /** `smoothtime reset|activate` (ops: smoothtime). */
  smoothTime?: (action: "reset" | "activate") => ControlResult;
}

/** Composes the engine, manual input and daemon services into one `EngineControl`. */
export class DaemonControl implements EngineControl {
  readonly #engine: EngineSide;
  readonly #manual: ManualSide;
  readonly #services: DaemonServices;

  /** Creates the control surface. */
  constructor(engine: EngineSide, manual: ManualSide, services: DaemonServices) {
    this.#engine = engine;
    this.#manual = manual;
    this.#services = services;
  }

  /** `smoothing` (ops). */
  smoothing(): SmoothingReport | null {
    return this.#services.smoothing?.() ?? null;
  }
  /** `smoothtime reset|activate` (ops). */
  smoothTime(action: "reset" | "activate"): ControlResult {
    return this.#services.smoothTime?.(action) ?? { ok: false, status: "notenabled" };
  }
  /** `tracking`. */
  tracking(): TrackingReport {
    const report = this.#engine.tracking();
    return this.#services.adjustTracking ? this.#services.adjustTracking(report) : report;
  }
  /** `sources`. */
  sources(): SourceReport[] {
    return this.#engine.sources();
  }
  /** `sourcestats`. */
  sourceStats(): SourceStatsReport[] {
    return this.#engine.sourceStats();
  }
  /** `selectdata`. */
  selectData(): SelectDataReport[] {
    return this.#engine.selectData();
  }
  /** `activity`, with unresolved names counted by the daemon. */
  activity(): ActivityReport {
    const report = this.#engine.activity();
    return { ...report, unresolved: report.unresolved + this.#services.unresolvedSources() };
  }
  /** `ntpdata`, with the local address actually used when the engine leaves it unspecified. */
  ntpData(address: string): NtpDataReport | null {
    const report = this.#engine.ntpData(address);
    if (report === null || !UNSPECIFIED.has(report.localAddress)) return report;
    const local = this.#services.localAddressFor?.(report.remoteAddress) ?? null;
    return local === null ? report : { ...report, localAddress: local };
  }
  /** `authdata`. */
  authData(address: string): AuthDataReport | null {
    return this.#services.authData?.(address) ?? null;
  }
  /** `rekey`. */
  rekey(): ControlResult {
    return this.#services.rekey?.() ?? { ok: false, status: "failed" };
  }
  /** `reload sources`. */
  reloadSources(): ControlResult {
    return this.#services.reloadSources?.() ?? { ok: false, status: "failed" };
  }
  /** `serverstats`. */
  serverStats(): ServerStatsReport {
    return this.#services.serverStats();
  }
  /** `clients`. */
  clients(): ClientAccessReport[] {
    return this.#services.clients();
  }
  /** `sourcename`. */
  sourceName(address: string): string | null {
    return this.#services.sourceName(address);
  }
  /** `rtcdata`. */
  rtcReport(): RtcReport | null {
    return this.#services.rtcReport();
  }
  /** `manual list`. */
  manualList(): ManualSampleReport[] {
    return this.#manual.manualList();
  }
  /** `makestep`. */
  makeStepNow(): ControlResult {
    return this.#services.makeStepNow?.() ?? this.#engine.makeStepNow();
  }
  /** `makestep THRESHOLD LIMIT`. */
  modifyMakeStep(threshold: number, limit: number): ControlResult {
    return this.#engine.modifyMakeStep(threshold, limit);
  }
  /** `burst`. */
  burst(match: SourceMatch, good: number, total: number): ControlResult {
    return this.#engine.burst(match, good, total);
  }
  /** `online`/`offline`. */
  setConnectivity(match: SourceMatch, online: boolean): ControlResult {
    return this.#engine.setConnectivity(match, online);
  }
  /** `onoffline`. */
  onOffline(): ControlResult {
    return this.#services.onOffline?.() ?? this.#engine.onOffline();
  }
  /** `manual on|off|reset`. */
  manual(mode: "on" | "off" | "reset"): ControlResult {
    return this.#manual.manual(mode);
  }
  /** `manual delete N`. */
  manualDelete(index: number): ControlResult {
    return this.#manual.manualDelete(index);
  }
  /** `settime`. */
  setTime(trueTime: Instant): ControlResult | { ok: true; report: ManualTimestampReport } {
    return this.#manual.setTime(trueTime);
  }
  /** `add server|pool|peer`. */
  addSource(request: AddSourceRequest): ControlResult | Promise<ControlResult> {
    return this.#services.addSource(request);
  }
  /** `delete`. */
  deleteSource(address: string): ControlResult {
    return this.#services.deleteSource(address);
  }
  /** `allow`/`deny`. */
  ntpAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult {
    return this.#services.ntpAccess(subnet, allow, all);
  }
  /** `cmdallow`/`cmddeny`. */
  cmdAccess(subnet: string | null, allow: boolean, all: boolean): ControlResult {
    return this.#services.cmdAccess(subnet, allow, all);
  }
  /** `accheck`. */
  ntpAccessCheck(address: string): boolean {
    return this.#services.ntpAccessCheck(address);
  }
  /** `cmdaccheck`. */
  cmdAccessCheck(address: string): boolean {
    return this.#services.cmdAccessCheck(address);
  }
  /** `reselect`. */
  reselect(): ControlResult {
    return this.#engine.reselect();
  }
  /** `reselectdist`. */
  reselectDistance(distance: number): ControlResult {
    return this.#engine.reselectDistance(distance);
  }
  /** `maxupdateskew`. */
  maxUpdateSkew(ppm: number): ControlResult {
    return this.#engine.maxUpdateSkew(ppm);
  }
  /** Per-source modifiers, by chronyc's name (minpoll, maxdelayratio, ...). */
  modifySource(address: string, field: string, value: number): ControlResult {
    const key = CHRONYC_MODIFY_FIELDS.get(field);
    if (key === undefined) return { ok: false, status: "invalid" };
    return this.#engine.modifySource(address, key, value);
  }
  /** `refresh`. */
  refresh(): ControlResult {
    return this.#services.refresh();
  }
  /** `reset sources`. */
  resetSources(): ControlResult {
    return this.#engine.resetSources();
  }
  /** `dump`. */
  dump(): ControlResult {
    return this.#services.dump();
  }
  /** `cyclelogs`. */
  cycleLogs(): ControlResult {
    return this.#services.cycleLogs();
  }
  /** `writertc`. */
  writeRtc(): ControlResult {
    return this.#services.writeRtc();
  }
  /** `trimrtc`. */
  trimRtc(): ControlResult {
    return this.#services.trimRtc();
  }
  /** `dfreq`. */
  adjustFrequency(dfreqPpm: number): ControlResult {
    return this.#engine.adjustFrequency(dfreqPpm);
  }
  /** `doffset`. */
  adjustOffset(offset: number): ControlResult {
    return this.#engine.adjustOffset(offset);
  }
  /** `local`. */
  local(enabled: boolean, stratum?: number, distance?: number, orphan?: boolean): ControlResult {
    return this.#engine.local(enabled, stratum, distance, orphan);
  }
  /** `shutdown`. */
  shutdown(): ControlResult {
    return this.#services.shutdown();
  }
}
