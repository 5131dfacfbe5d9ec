/**
 * The engine facade the daemon and the simulator drive: the registry, routing and
 * sequencing of `EngineCore`, plus the reports and the chronyc commands that concern the
 * engine, with EngineControl's signatures.
 *
 * @module
 */
import { DEFAULT_LOCAL } from "../../config/defaults.ts";
import type { SourceParams } from "../../config/model.ts";
import { parseIpv4, parseIpv6 } from "../../base/ip.ts";
import type { ControlResult, SourceMatch } from "../control.ts";
import type {
  ActivityReport,
  ManualSampleReport,
  ManualTimestampReport,
  NtpDataReport,
  SelectDataReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../reports.ts";
import type { Source, SourceOutcome } from "../source/source.ts";
import type { Instant } from "../../base/time.ts";
import type { ReferenceState } from "../types.ts";
import { EngineInputs } from "./inputs.ts";
import { activityReport, selectDataReport, sourcesReport, sourceStatsReport } from "./reports.ts";

export type { EngineDeps, EngineOptions, ReferenceUpdate } from "./types.ts";
export type { OneShotOptions, OneShotResult } from "./one_shot.ts";

/** Every source option that may be changed at run time (chronyc minpoll, maxdelay, ...). */
export const MODIFIABLE_FIELDS = [
  "minPoll",
  "maxPoll",
  "maxDelay",
  "maxDelayRatio",
  "maxDelayDevRatio",
  "minStratum",
  "pollTarget",
  "offset",
] as const satisfies readonly (keyof SourceParams)[];

/** A source option that may be changed at run time. */
export type ModifiableField = (typeof MODIFIABLE_FIELDS)[number];

/** The IP bytes of an address literal, or null. */
function ipBytes(text: string): Uint8Array | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** True when `address` matches chronyc's [mask/]addr selection. */
export function matchesSource(address: string, match: SourceMatch): boolean {
  if (match.address === null) return true;
  if (match.mask === null) return address === match.address;
  const a = ipBytes(address);
  const b = ipBytes(match.address);
  const m = ipBytes(match.mask);
  if (a === null || b === null || m === null) return false;
  if (a.length !== b.length || a.length !== m.length) return false;
  for (let i = 0; i < a.length; i++) if ((a[i] & m[i]) !== (b[i] & m[i])) return false;
  return true;
}

/** The engine. */
export class Engine extends EngineInputs {
  /**
   * Carries out a source's outcomes in order: `adjust-clock` (a `local` refclock, chrony's
   * REF_AdjustReference) here - the clock changes without the other sources being corrected,
   * then the asking source's statistics and samples move by the change made - the rest in
   * EngineCore.
   */
  protected override run(s: Source, outcomes: SourceOutcome[], samplesBefore?: number): void {
    let from = 0;
    outcomes.forEach((o, i) => {
      if (o.kind !== "adjust-clock") return;
      super.run(s, outcomes.slice(from, i), samplesBefore);
      from = i + 1;
      const change = this.reference.adjustReference(o.doffset, o.dfreq);
      if (change === null) return;
      s.stats.applyClockChange(change);
      s.applyClockChange(change);
    });
    if (from < outcomes.length) super.run(s, outcomes.slice(from), samplesBefore);
  }

  // ---------------------------------------------------------------- reports

  /** The reference state the NTP server answers from. */
  referenceState(): ReferenceState {
    return this.reference.state();
  }

  /** chronyc `tracking`. */
  tracking(): TrackingReport {
    return this.reference.trackingReport();
  }

  /** chronyc `sources`. */
  sources(): SourceReport[] {
    return sourcesReport(this.registry.values(), this.lastResult, this.clock.cookedNow());
  }

  /** chronyc `sourcestats`. */
  sourceStats(): SourceStatsReport[] {
    return sourceStatsReport(this.registry.values(), this.clock.cookedNow());
  }

  /** chronyc `selectdata`. */
  selectData(): SelectDataReport[] {
    return selectDataReport(this.registry.values(), this.lastResult, this.clock.cookedNow());
  }

  /** chronyc `activity` (unresolved names are the daemon's to add). */
  activity(): ActivityReport {
    return activityReport(this.registry.values());
  }

  #byAddress(address: string): Source | undefined {
    for (const s of this.registry.values()) if (s.addressText === address) return s;
    return undefined;
  }

  /** chronyc `ntpdata` for one source address. */
  ntpData(address: string): NtpDataReport | null {
    return this.#byAddress(address)?.ntpData(this.clock.cookedNow()) ?? null;
  }

  /** chronyc `sourcename`. */
  sourceName(address: string): string | null {
    return this.#byAddress(address)?.name ?? null;
  }

  // ---------------------------------------------------------------- commands

  /** `makestep` without arguments: step the outstanding correction now. */
  makeStepNow(): ControlResult {
    const stepped = this.clock.makeStepNow();
    this.log("warning", `System clock was stepped by ${stepped.toFixed(6)} seconds`);
    return { ok: true };
  }

  /** `makestep THRESHOLD LIMIT`. */
  modifyMakeStep(threshold: number, limit: number): ControlResult {
    if (!(threshold >= 0)) return { ok: false, status: "invalid" };
    this.reference.modifyMakeStep(threshold, limit);
    return { ok: true };
  }

  /** The sources a [mask/]addr selects; null when a single named address is unknown. */
  #matching(match: SourceMatch): Source[] | null {
    const list = [...this.registry.values()].filter((s) => matchesSource(s.addressText, match));
    return list.length === 0 && match.address !== null && match.mask === null ? null : list;
  }

  /** `burst GOOD/MAX [mask/addr]`. */
  burst(match: SourceMatch, good: number, total: number): ControlResult {
    if (!(good >= 1) || !(total >= good)) return { ok: false, status: "invalid" };
    const list = this.#matching(match);
    if (list === null) return { ok: false, status: "nosuchsource" };
    for (const s of list) this.run(s, s.burst(good, total));
    return { ok: true };
  }

  /** `online` / `offline` [mask/addr]. */
  setConnectivity(match: SourceMatch, online: boolean): ControlResult {
    const list = this.#matching(match);
    if (list === null) return { ok: false, status: "nosuchsource" };
    for (const s of list) this.run(s, s.setOnline(online, this.context(s)));
    return { ok: true };
  }

  /** `onoffline`: the engine cannot see routes, so every source goes online. */
  onOffline(): ControlResult {
    for (const s of this.registry.values()) this.run(s, s.setOnline(true, this.context(s)));
    return { ok: true };
  }

  /** `delete ADDR`. */
  deleteSource(address: string): ControlResult {
    const s = this.#byAddress(address);
    if (s === undefined) return { ok: false, status: "nosuchsource" };
    this.removeSource(s.id);
    return { ok: true };
  }

  /** `reselect`. */
  reselect(): ControlResult {
    this.selector.reselect();
    this.select(null);
    return { ok: true };
  }

  /** `reselectdist DIST`. */
  reselectDistance(distance: number): ControlResult {
    if (!(distance >= 0)) return { ok: false, status: "invalid" };
    this.selector.setReselectDistance(distance);
    return { ok: true };
  }

  /**
   * minsources for the next selections (the NTS bootstrap quorum, src/daemon/nts_sources.ts);
   * an integer of at least 1.
   */
  setMinSources(count: number): ControlResult {
    if (!Number.isInteger(count) || count < 1) return { ok: false, status: "invalid" };
    this.selector.setMinSources(count);
    return { ok: true };
  }

  /** `maxupdateskew PPM`. */
  maxUpdateSkew(ppm: number): ControlResult {
    if (!(ppm > 0)) return { ok: false, status: "invalid" };
    this.reference.modifyMaxUpdateSkew(ppm);
    return { ok: true };
  }

  /** Changes a source option at run time (minpoll, maxpoll, maxdelay, offset, ...). */
  modifySource(address: string, field: ModifiableField, value: number): ControlResult {
    const s = this.#byAddress(address);
    if (s === undefined) return { ok: false, status: "nosuchsource" };
    if (!MODIFIABLE_FIELDS.includes(field) || !Number.isFinite(value)) {
      return { ok: false, status: "invalid" };
    }
    s.modify(field, value);
    return { ok: true };
  }

  /** `reset sources`: drop every sample history. */
  resetSources(): ControlResult {
    for (const s of this.registry.values()) {
      s.stats.reset();
      s.resetHistory();
      this.selector.forget(s.id);
    }
    this.select(null);
    return { ok: true };
  }

  /** `dfreq PPM` (tempus sense: > 0 makes the clock faster). */
  adjustFrequency(dfreqPpm: number): ControlResult {
    if (!Number.isFinite(dfreqPpm)) return { ok: false, status: "invalid" };
    this.clock.accumulateFrequencyAndOffset(dfreqPpm, 0, 0);
    this.log("info", `Accumulated delta freq of ${dfreqPpm.toFixed(3)}ppm`);
    return { ok: true };
  }

  /** `doffset SECONDS` (> 0 moves the clock forward), slewed as fast as allowed. */
  adjustOffset(offset: number): ControlResult {
    if (!Number.isFinite(offset)) return { ok: false, status: "invalid" };
    this.clock.accumulateOffset(offset, 0);
    this.log("info", `Accumulated delta offset of ${offset.toFixed(6)} seconds`);
    return { ok: true };
  }

  /** `manual list`. */
  manualList(): ManualSampleReport[] {
    return this.manualInput.list();
  }

  /** `manual on|off|reset`. */
  manual(mode: "on" | "off" | "reset"): ControlResult {
    if (mode === "on") this.manualInput.enable();
    else if (mode === "off") this.manualInput.disable();
    else this.manualInput.reset();
    return { ok: true };
  }

  /** `manual delete N`: drops entry N and applies the new estimate. */
  manualDelete(index: number): ControlResult {
    const r = this.manualInput.delete(index, this.clock.cookedNow(), this.clock.freqPpm);
    if (!r.ok) return { ok: false, status: r.status, message: r.message };
    this.reference.setManualReference(r.update.offset, r.update.freqPpm, r.update.skewPpm);
    return { ok: true };
  }

  /** `settime`: the operator's true time becomes a manual reference update. */
  setTime(trueTime: Instant): ControlResult | { ok: true; report: ManualTimestampReport } {
    const r = this.manualInput.accept(this.clock.cookedNow(), trueTime, this.clock.freqPpm);
    if (!r.ok) return { ok: false, status: r.status, message: r.message };
    this.reference.setManualReference(r.update.offset, r.update.freqPpm, r.update.skewPpm);
    return { ok: true, report: r.report };
  }

  /** `local` on (with options) or off; options left out keep the configured values. */
  local(enabled: boolean, stratum?: number, distance?: number, orphan?: boolean): ControlResult {
    if (!enabled) {
      this.reference.setLocal(null);
      return { ok: true };
    }
    const base = this.config.local ?? DEFAULT_LOCAL;
    this.reference.setLocal({
      ...base,
      stratum: stratum ?? base.stratum,
      distance: distance ?? base.distance,
      orphan: orphan ?? base.orphan,
    });
    return { ok: true };
  }
}
