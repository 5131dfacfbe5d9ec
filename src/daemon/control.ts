/**
 * The daemon's `EngineControl`: what chronyc-style commands reach. Engine-level reports and
 * commands are delegated to the engine; the rest (server statistics, access tables, names,
 * logs, RTC, shutdown) belong to the daemon and are composed here.
 *
 * @module
 */
import type { AuthDataReport, ControlResult, EngineControl } from "../core/control.ts";
import type { ActivityReport, NtpDataReport, TrackingReport } from "../core/reports.ts";
import type { SmoothingReport } from "../core/smoothing.ts";
import { MODIFIABLE_FIELDS, type ModifiableField } from "../core/engine/engine.ts";

/** The engine's calls the control passes on unchanged. */
export const ENGINE_CALLS = [
  "sources",
  "sourceStats",
  "selectData",
  "modifyMakeStep",
  "burst",
  "setConnectivity",
  "reselect",
  "reselectDistance",
  "maxUpdateSkew",
  "resetSources",
  "adjustFrequency",
  "adjustOffset",
  "local",
] as const;

/** The manual-input calls (the engine or the daemon provides them). */
export const MANUAL_CALLS = ["manual", "manualDelete", "manualList", "setTime"] as const;

/** The daemon services' calls the control passes on unchanged. */
export const SERVICE_CALLS = [
  "serverStats",
  "clients",
  "sourceName",
  "rtcReport",
  "addSource",
  "deleteSource",
  "ntpAccess",
  "cmdAccess",
  "ntpAccessCheck",
  "cmdAccessCheck",
  "refresh",
  "dump",
  "cycleLogs",
  "writeRtc",
  "trimRtc",
  "shutdown",
] as const;

/** The engine-level part of `EngineControl` that the engine itself implements. */
export type EngineSide = EngineReportsAndCommands & {
  /** Changes a source option at run time. */
  modifySource(address: string, field: ModifiableField, value: number): ControlResult;
};

/** The reports and commands the engine answers with EngineControl's signatures. */
export type EngineReportsAndCommands = Pick<
  EngineControl,
  (typeof ENGINE_CALLS)[number] | "tracking" | "activity" | "ntpData" | "makeStepNow" | "onOffline"
>;

/** chronyc's names of the run-time source options (and the field names themselves). */
const CHRONYC_MODIFY_FIELDS: ReadonlyMap<string, ModifiableField> = new Map(
  MODIFIABLE_FIELDS.flatMap((f) => [[f.toLowerCase(), f], [f, f]] as const),
);

/** Local addresses the engine reports when it does not know the one used. */
const UNSPECIFIED = new Set(["0.0.0.0", "::"]);

/** The manual-input part (engine or daemon provides it). */
export type ManualSide = Pick<EngineControl, (typeof MANUAL_CALLS)[number]>;

/**
 * The daemon-level services the control composes: EngineControl's server statistics,
 * clients, names, RTC, sources added and deleted, access tables, refresh, dump, logs and
 * shutdown, and these.
 */
export interface DaemonServices extends Pick<EngineControl, (typeof SERVICE_CALLS)[number]> {
  /** Adjusts the tracking report (e.g. -x: system time offset from the null driver). */
  adjustTracking?: (report: TrackingReport) => TrackingReport;
  /** Unresolved source names (added to `activity`). */
  unresolvedSources: () => number;
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
  /** `smoothing` (ops: smoothtime; absent or null when not configured). */
  smoothing?: () => SmoothingReport | null;
  /** `smoothtime reset|activate` (ops: smoothtime). */
  smoothTime?: (action: "reset" | "activate") => ControlResult;
}

/** Calls to `names` of `target`, each looked up on `target` when it is made. */
function passOn<T, K extends keyof T>(target: T, names: readonly K[]): Pick<T, K> {
  const calls: Partial<Pick<T, K>> = {};
  for (const name of names) {
    const call = (...args: unknown[]) => (target[name] as (...a: unknown[]) => unknown)(...args);
    calls[name] = call as T[K];
  }
  return calls as Pick<T, K>;
}

/** The calls DaemonControl passes on unchanged (EngineControl's documentation applies). */
export interface DaemonControl extends
  Pick<
    EngineControl,
    (typeof ENGINE_CALLS)[number] | (typeof MANUAL_CALLS)[number] | (typeof SERVICE_CALLS)[number]
  > {}

/** Composes the engine, manual input and daemon services into one `EngineControl`. */
export class DaemonControl implements EngineControl {
  readonly #engine: EngineSide;
  readonly #services: DaemonServices;

  /** Creates the control surface. */
  constructor(engine: EngineSide, manual: ManualSide, services: DaemonServices) {
    this.#engine = engine;
    this.#services = services;
    Object.assign(
      this,
      passOn(engine, ENGINE_CALLS),
      passOn(manual, MANUAL_CALLS),
      passOn(services, SERVICE_CALLS),
    );
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
  /** `makestep`. */
  makeStepNow(): ControlResult {
    return this.#services.makeStepNow?.() ?? this.#engine.makeStepNow();
  }
  /** `onoffline`. */
  onOffline(): ControlResult {
    return this.#services.onOffline?.() ?? this.#engine.onOffline();
  }
  /** Per-source modifiers, by chronyc's name (minpoll, maxdelayratio, ...). */
  modifySource(address: string, field: string, value: number): ControlResult {
    const key = CHRONYC_MODIFY_FIELDS.get(field);
    if (key === undefined) return { ok: false, status: "invalid" };
    return this.#engine.modifySource(address, key, value);
  }
}
