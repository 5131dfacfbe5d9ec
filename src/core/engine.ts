/**
 * The engine facade the daemon and the simulator drive: a LocalClock over the driver, one
 * NtpSource (with its SourceStats) per source, the SourceSelector run on each new sample,
 * and the Reference that disciplines the clock. It also answers the reports and runs the
 * control commands of chronyc that concern the engine, with EngineControl's signatures.
 *
 * @module
 */
import type { Config, LocalConfig, SourceParams, SourceType } from "../config/model.ts";
import { parseIpv4, parseIpv6 } from "../ntp/ip.ts";
import { refIdFromAddress } from "../ntp/packet.ts";
import type { ControlResult, SourceMatch } from "./control.ts";
import { LocalClock } from "./local_clock.ts";
import { ManualInput } from "./manual.ts";
import { NtpSource } from "./ntp_source.ts";
import type {
  ClockDriver,
  LogPort,
  NtpTransport,
  RandomPort,
  SocketAddress,
  TimerPort,
} from "./ports.ts";
import { Reference } from "./reference.ts";
import type {
  ActivityReport,
  ManualSampleReport,
  ManualTimestampReport,
  NtpDataReport,
  SelectDataReport,
  SourceReport,
  SourceState,
  SourceStatsReport,
  TrackingReport,
} from "./reports.ts";
import { type SelectionCandidate, type SelectionResult, SourceSelector } from "./select/mod.ts";
import { SourceStats } from "./sourcestats.ts";
import type { Instant } from "./time.ts";
import type { ClockChangeEvent, ReferenceState } from "./types.ts";
import type { KeyStore } from "../ntp/auth.ts";

/** The ports an engine is built with. */
export interface EngineDeps {
  /** Clock driver. */
  driver: ClockDriver;
  /** Timers. */
  timers: TimerPort;
  /** Randomness. */
  random: RandomPort;
  /** Log lines. */
  log: LogPort;
  /** NTP request transport. */
  transport: NtpTransport;
}

/** Result of a one-shot measurement (`tempus sync`, daemon -q/-Q). */
export interface OneShotResult {
  /** Offset measured, seconds (> 0: the clock was behind). */
  offset: number;
  /** Residual frequency measured, ppm (tempus sense). */
  freqPpm: number;
  /** Address of the selected source. */
  source: string | null;
  /** What was done with it. */
  action: "step" | "slew" | "print";
}

/** One-shot mode: report the first estimate and (for -q) correct the clock with it. */
export interface OneShotOptions {
  /** step (-q, chronyd default), slew, or print only (-Q). */
  action: "step" | "slew" | "print";
  /** Receives the first estimate; the engine stops polling afterwards. */
  onResult: (result: OneShotResult) => void;
  /**
   * Called (once, polling stopped) when no source can give an estimate any more: every
   * source has used up its initial burst without enough samples (chrony "No suitable
   * source for synchronisation").
   */
  onFailure?: (reason: string) => void;
}

/** Extra engine options. */
export interface EngineOptions {
  /** One-shot mode (null: continuous). */
  oneShot?: OneShotOptions | null;
  /** Measures the clock precision (seconds) when config.clockPrecision is null. */
  measurePrecision?: () => number;
  /**
   * Reference ID of our own address as the other orphan-mode servers see it (the IPv4
   * address, or the MD5-derived ID for IPv6). With `local ... orphan`, an orphan source is
   * followed only if its ID is smaller; without it we never follow orphans.
   */
  localRefId?: number;
  /**
   * Symmetric keys from the keyfile, for sources with the `key` option (absent: none; such a
   * source then logs an error and sends nothing).
   */
  keys?: KeyStore | null;
}

/** Options bits of selectdata: noselect, prefer, trust, require. */
const OPTION_BITS = { noselect: 1, prefer: 2, trust: 4, require: 8 } as const;

/** chronyc modifier names mapped onto SourceParams fields. */
const MODIFIABLE: Record<string, keyof SourceParams> = {
  minpoll: "minPoll",
  maxpoll: "maxPoll",
  maxdelay: "maxDelay",
  maxdelayratio: "maxDelayRatio",
  maxdelaydevratio: "maxDelayDevRatio",
  minstratum: "minStratum",
  polltarget: "pollTarget",
  minPoll: "minPoll",
  maxPoll: "maxPoll",
  maxDelay: "maxDelay",
  maxDelayRatio: "maxDelayRatio",
  maxDelayDevRatio: "maxDelayDevRatio",
  minStratum: "minStratum",
  pollTarget: "pollTarget",
};

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

/** Maps a chrony status character onto the `sources` state. */
function sourceState(status: string | undefined): SourceState {
  switch (status) {
    case "*":
      return "selected";
    case "+":
      return "unselected";
    case "x":
      return "falseticker";
    case "~":
      return "jittery";
    case "D":
    case "P":
    case "U":
      return "selectable";
    default:
      return "nonselectable";
  }
}

/** The engine. */
export class Engine {
  /** The disciplined local clock. */
  readonly clock: LocalClock;
  /** The reference (clock discipline). */
  readonly reference: Reference;
  readonly #config: Config;
  readonly #deps: EngineDeps;
  readonly #selector: SourceSelector;
  readonly #sources = new Map<number, NtpSource>();
  readonly #pool = new Map<number, string | null>();
  readonly #requests = new Map<number, NtpSource>();
  readonly #txSlots = new Map<number, Instant>();
  readonly #timers: TimerPort;
  readonly #manual: ManualInput;
  readonly #lastTxAt = new Map<number, Instant>();
  #nextSourceId = 1;
  #nextRequestId = 1;
  #started = false;
  #lastResult: SelectionResult | null = null;
  #selectedId: number | null = null;
  #oneShot: OneShotOptions | null;
  readonly #localRefId: number | undefined;
  readonly #keys: KeyStore | null;
  #oneShotDone = false;

  /** Called when a source should be replaced (unreachable, falseticker, KoD DENY). */
  onReplaceSource: ((id: number) => void) | null = null;
  /** Called when tempus must exit (maxchange). */
  onFatal: ((message: string) => void) | null = null;
  /**
   * Called after every reply to a request was processed, with its test bits (TestBit) and
   * whether it passed tests 1-3 and 5 (its values are then in ntpData): measurements.log.
   */
  onReply: ((id: number, tests: number, valid: boolean) => void) | null = null;
  /** Called after a source accepted a new sample (before selection): for measurement logs. */
  onSampleAccepted: ((id: number) => void) | null = null;
  /** Called after each reference update with what was applied: for tracking logs. */
  onReferenceUpdated:
    | ((
      update: {
        offset: number;
        offsetSd: number;
        combinedCount: number;
        /** Correction still being slewed just before this update (tracking.log "Rem. corr."). */
        remainingBefore: number;
      },
    ) => void)
    | null = null;

  /** Builds the engine; `initialDrift` comes from the driftfile (tempus sense). */
  constructor(
    config: Config,
    deps: EngineDeps,
    initialDrift: { freqPpm: number; skewPpm: number } | null = null,
    options: EngineOptions = {},
  ) {
    this.#config = config;
    this.#deps = deps;
    this.#oneShot = options.oneShot ?? null;
    this.#localRefId = options.localRefId;
    this.#keys = options.keys ?? null;
    this.clock = new LocalClock(deps.driver, deps.timers, {
      maxSlewRate: config.maxSlewRate,
      maxDrift: config.maxDrift,
      precision: config.clockPrecision,
      measurePrecision: options.measurePrecision,
      initialFrequencyPpm: initialDrift?.freqPpm ?? null,
    });
    this.reference = new Reference(config, {
      clock: this.clock,
      driver: deps.driver,
      timers: deps.timers,
      log: deps.log,
    }, initialDrift);
    this.reference.onFatal = (m) => this.onFatal?.(m);
    this.#selector = new SourceSelector({
      maxDistance: config.maxDistance,
      maxJitter: config.maxJitter,
      minSources: config.minSources,
      reselectDist: config.reselectDist,
      stratumWeight: config.stratumWeight,
      combineLimit: config.combineLimit,
      maxClockError: config.maxClockError,
      maxStratum: config.maxStratum,
      orphanStratum: config.local?.orphan ? config.local.stratum : null,
      localRefId: options.localRefId,
    });
    this.#manual = new ManualInput({ enabled: config.manual });
    this.clock.addObserver((c) => this.#onClockChange(c));
    // Timers handed to sources watch for outside steps of the clock (chrony's sched.c).
    const base = deps.timers;
    this.#timers = {
      setTimer: (delay, callback) => {
        const stamp = this.clock.jumpStamp();
        return base.setTimer(delay, () => {
          const jump = this.clock.checkForJump(stamp, delay);
          if (jump !== null) {
            this.#log("warning", `${jump > 0 ? "Forward" : "Backward"} time jump detected!`);
          }
          try {
            callback();
          } catch (e) {
            this.#log("error", `Timer failed: ${String(e)}`);
          }
        });
      },
      cancelTimer: (handle) => base.cancelTimer(handle),
    };
  }

  /** Drift values to persist: (absolute frequency ppm tempus sense, skew ppm). */
  get onDriftUpdate(): ((freqPpm: number, skewPpm: number) => void) | null {
    return this.reference.onDriftUpdate;
  }

  /** Sets the drift callback (at most every driftfile interval, and at stop). */
  set onDriftUpdate(fn: ((freqPpm: number, skewPpm: number) => void) | null) {
    this.reference.onDriftUpdate = fn;
  }

  #log(level: "debug" | "info" | "warning" | "error", message: string): void {
    this.#deps.log.log(level, message);
  }

  #onClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") this.reference.handleUnknownStep();
    else this.reference.applyClockChange(change);
    this.#manual.applyClockChange(change);
    for (const s of this.#sources.values()) {
      s.stats.applyClockChange(change);
      s.applyClockChange(change);
    }
  }

  /** Starts polling every source. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const s of this.#sources.values()) s.start();
  }

  /** Stops polling and timers; hands the final drift to onDriftUpdate. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    for (const s of this.#sources.values()) s.stop();
    this.reference.stop();
    this.clock.stop();
    this.reference.flushDrift();
  }

  /**
   * Adds a source by address (names are resolved by the daemon); pools are several sources
   * added with the same `name`. Returns the source id.
   */
  addSource(
    type: SourceType,
    address: SocketAddress,
    params: SourceParams,
    name: string | null,
  ): number {
    const id = this.#nextSourceId++;
    const p: SourceParams = { ...params };
    if (this.#oneShot !== null) p.iburst = true;
    const globalMin = this.#config.minSamples;
    const stats = new SourceStats({
      minSamples: p.minSamples ?? globalMin,
      maxSamples: p.maxSamples ?? this.#config.maxSamples,
      asymmetry: p.asymmetry,
      precision: this.clock.precision,
      maxClockError: this.#config.maxClockError,
      minDelay: p.minDelay,
      maxJitter: this.#config.maxJitter,
    });
    const source = new NtpSource({
      id,
      type,
      address,
      name,
      params: p,
      clock: this.clock,
      timers: this.#timers,
      random: this.#deps.random,
      log: this.#deps.log,
      transport: this.#deps.transport,
      stats,
      maxClockError: this.#config.maxClockError,
      key: p.key === null ? null : this.#keys?.get(p.key) ?? null,
      hooks: {
        nextRequestId: (src) => {
          this.#lastTxAt.set(src.id, this.clock.rawNow());
          const rid = this.#nextRequestId++;
          this.#requests.set(rid, src);
          return rid;
        },
        releaseRequestId: (rid) => this.#requests.delete(rid),
        onSample: (src) => {
          this.onSampleAccepted?.(src.id);
          this.#select(src.id);
        },
        onUnreachable: (src) => this.onReplaceSource?.(src.id),
        onReachability: (src) => {
          if (this.#oneShot !== null) this.#checkOneShotEnd();
          // Selection can change with unreachable sources (chrony SRC_UpdateReachability).
          if (src.reachability === 0) this.#select(null);
        },
        onDenied: (src) => {
          this.#select(null);
          this.onReplaceSource?.(src.id);
        },
        referenceState: () => this.reference.state(),
        localRefId: () => this.#localRefId,
        isLeapSecondClose: (t) => this.reference.isLeapSecondClose(t),
        isSelected: (src) => this.#selectedId === src.id,
        separateTransmission: (src, delay, separation) => this.#separate(src.id, delay, separation),
      },
    });
    this.#sources.set(id, source);
    this.#pool.set(id, type === "pool" ? name : null);
    if (this.#started) source.start();
    return id;
  }

  /**
   * Moves a source's next transmission so it is at least `separation` seconds away from the
   * transmissions reserved by the other sources (chrony's sampling separation).
   */
  #separate(id: number, delay: number, separation: number): number {
    // Timers count local (raw) seconds, so slots are kept on the raw clock.
    const now = this.clock.rawNow();
    const sepNs = BigInt(Math.round(separation * 1e9));
    let t = now + BigInt(Math.round(delay * 1e9));
    const others = [...this.#txSlots.entries(), ...this.#lastTxAt.entries()]
      .filter(([sid, at]) => sid !== id && at + sepNs > now)
      .map(([, at]) => at)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let pass = 0; pass <= others.length; pass++) {
      let moved = false;
      for (const at of others) {
        const d = t - at;
        if (d > -sepNs && d < sepNs) {
          t = at + sepNs;
          moved = true;
        }
      }
      if (!moved) break;
    }
    this.#txSlots.set(id, t);
    return Number(t - now) / 1e9;
  }

  /** Removes a source. */
  removeSource(id: number): boolean {
    const s = this.#sources.get(id);
    if (s === undefined) return false;
    s.stop();
    this.#sources.delete(id);
    this.#pool.delete(id);
    this.#txSlots.delete(id);
    this.#lastTxAt.delete(id);
    this.#selector.forget(id);
    if (this.#selectedId === id) {
      this.#selectedId = null;
      this.#select(null);
    }
    return true;
  }

  /**
   * Replaces a source's address (re-resolved pool member or name), keeping its options;
   * the history is dropped. Returns the (unchanged) id, or null if unknown.
   */
  replaceSource(id: number, address: SocketAddress): number | null {
    const old = this.#sources.get(id);
    if (old === undefined) return null;
    const type = old.type;
    const params = { ...old.params };
    const name = old.name;
    this.removeSource(id);
    const newId = this.addSource(type, address, params, name);
    const named = name !== null && name !== address.address ? ` (${name})` : "";
    this.#log("info", `Source ${old.addressText} replaced with ${address.address}${named}`);
    return newId;
  }

  /** Ids of the configured sources, in order. */
  sourceIds(): number[] {
    return [...this.#sources.keys()];
  }

  /** The pool name a source was added for (type "pool"), or null. */
  poolOf(id: number): string | null {
    return this.#pool.get(id) ?? null;
  }

  /** The source object for an id (for the daemon and tests). */
  source(id: number): NtpSource | undefined {
    return this.#sources.get(id);
  }

  /**
   * The transport's better transmit time for request `requestId` (a kernel transmit
   * timestamp, cooked), reported right after sending; replaces the time read before the
   * packet was built.
   */
  transmitted(requestId: number, txCooked: Instant): void {
    this.#requests.get(requestId)?.setTransmitTime(requestId, txCooked);
  }

  /** The transport could not send request `requestId` after all (auto_offline applies). */
  sendFailed(requestId: number): void {
    this.#requests.get(requestId)?.sendFailed(requestId);
  }

  /** Hands a reply to the source that sent request `requestId`. */
  receiveReply(requestId: number, packet: Uint8Array, rxCooked: Instant): void {
    const source = this.#requests.get(requestId);
    if (source === undefined) return;
    try {
      const outcome = source.receive(requestId, packet, rxCooked);
      this.onReply?.(source.id, outcome.tests, outcome.valid); // dropin: measurement logs
    } catch (e) {
      // Nothing read from the network may throw out of the event loop.
      this.#log("error", `Reply from ${source.addressText} not processed: ${String(e)}`);
    }
  }

  #candidates(now: Instant): SelectionCandidate[] {
    const out: SelectionCandidate[] = [];
    for (const s of this.#sources.values()) {
      const p = s.params;
      out.push({
        id: s.id,
        noselect: p.noselect,
        prefer: p.prefer,
        trust: p.trust,
        require: p.require,
        reachability: s.reachability,
        unreachableRun: s.unreachableRun,
        maxUnreach: p.maxUnreach,
        selection: s.stats.selectionData(now),
        tracking: s.stats.trackingData(),
        isNtp: true,
        // chrony logs "192.0.2.1 (ntp.example.net)" when the source has a name.
        name: s.name !== null && s.name !== s.addressText
          ? `${s.addressText} (${s.name})`
          : s.addressText,
        reachabilitySize: s.reachabilitySize,
        pollsSinceGoodSample: s.pollsSinceGoodSample,
        refId: refIdFromAddress(s.addressText) ?? 0,
      });
    }
    return out;
  }

  /** Runs the selection (after a new sample of `updatedId`, or null) and updates the reference. */
  #select(updatedId: number | null): void {
    const now = this.clock.cookedNow();
    const result = this.#selector.select(now, this.#candidates(now), updatedId);
    this.#lastResult = result;
    this.#selectedId = result.selectedId;
    for (const m of result.messages) this.#log(m.level, m.text);
    for (const id of result.replaceIds) this.onReplaceSource?.(id);
    if (result.combined !== null && result.selectedId !== null) {
      const sel = this.#sources.get(result.selectedId)!;
      const c = result.combined;
      if (this.#oneShot !== null) {
        this.#finishOneShot(
          c.offset + Number(now - c.refTime) / 1e9 * c.frequencyPpm * 1e-6,
          c.frequencyPpm,
          sel.addressText,
        );
        return;
      }
      const remainingBefore = this.clock.remainingCorrection();
      this.reference.update({
        stratum: c.stratum,
        leap: c.leapVote,
        combinedCount: c.combinedCount,
        refId: refIdFromAddress(sel.addressText) ?? 0,
        refAddress: sel.addressText,
        refTime: c.refTime,
        offset: c.offset,
        offsetSd: c.offsetSd,
        frequencyPpm: c.frequencyPpm,
        frequencySdPpm: c.frequencySdPpm,
        skewPpm: c.skewPpm,
        rootDelay: c.rootDelay,
        rootDispersion: c.rootDispersion,
      });
      this.onReferenceUpdated?.({
        offset: c.offset,
        offsetSd: c.offsetSd,
        combinedCount: c.combinedCount,
        remainingBefore,
      });
    } else if (
      result.unsynchronise || (result.selectedId === null && this.reference.synchronised)
    ) {
      this.reference.setUnsynchronised();
    }
  }

  /**
   * One-shot mode ends without a result when no source could still collect the 3 samples
   * selection needs within its initial burst of 8 requests (chrony special_mode_end).
   */
  #checkOneShotEnd(): void {
    const os = this.#oneShot;
    if (os === null || this.#oneShotDone) return;
    for (const s of this.#sources.values()) {
      if (s.denied || s.mode === "offline") continue;
      if (s.reachabilitySize >= 7) continue;
      if (7 - s.reachabilitySize + s.stats.sampleCount >= 3) return;
    }
    this.#oneShotDone = true;
    this.#log("warning", "No suitable source for synchronisation");
    for (const s of this.#sources.values()) s.stop();
    os.onFailure?.("No suitable source for synchronisation");
  }

  #finishOneShot(offset: number, freqPpm: number, source: string): void {
    const os = this.#oneShot;
    if (os === null || this.#oneShotDone) return;
    this.#oneShotDone = true;
    const action = os.action;
    const verb = action === "print" ? "ignored" : action;
    this.#log("info", `System clock wrong by ${offset.toFixed(6)} seconds (${verb})`);
    if (action === "step") {
      this.clock.accumulateFrequencyAndOffset(freqPpm, 0, 0);
      this.clock.step(offset);
    } else if (action === "slew") {
      this.clock.accumulateFrequencyAndOffset(freqPpm, offset, 0);
    }
    for (const s of this.#sources.values()) s.stop();
    os.onResult({ offset, freqPpm, source, action });
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
    const now = this.clock.cookedNow();
    const status = this.#lastResult?.status;
    const out: SourceReport[] = [];
    for (const s of this.#sources.values()) {
      const last = s.stats.lastSample();
      const t = s.lastSampleTime;
      out.push({
        id: s.id,
        address: s.addressText,
        name: s.name,
        poll: s.poll,
        stratum: s.ntpData().stratum,
        state: sourceState(status?.get(s.id)),
        mode: s.type === "peer" ? "peer" : "client",
        reachability: s.reachability,
        sinceSample: t === null ? null : Math.max(0, Number(now - t) / 1e9),
        origLatestOffset: s.stats.lastOriginalOffset() ?? 0,
        latestOffset: last?.offset ?? 0,
        latestError: last ? last.rootDelay / 2 + last.rootDispersion : 0,
      });
    }
    return out;
  }

  /** chronyc `sourcestats`. */
  sourceStats(): SourceStatsReport[] {
    const now = this.clock.cookedNow();
    return [...this.#sources.values()].map((s) => ({
      id: s.id,
      refId: 0,
      address: s.addressText,
      ...s.stats.report(now),
    }));
  }

  /** chronyc `selectdata`. */
  selectData(): SelectDataReport[] {
    const now = this.clock.cookedNow();
    const r = this.#lastResult;
    return [...this.#sources.values()].map((s) => {
      const p = s.params;
      const opts = (p.noselect ? OPTION_BITS.noselect : 0) | (p.prefer ? OPTION_BITS.prefer : 0) |
        (p.trust ? OPTION_BITS.trust : 0) | (p.require ? OPTION_BITS.require : 0);
      const sel = s.stats.selectionData(now);
      const iv = r?.intervals.get(s.id);
      return {
        id: s.id,
        address: s.addressText,
        refId: refIdFromAddress(s.addressText) ?? 0,
        stateChar: r?.status.get(s.id) ?? "M",
        authenticated: p.key !== null,
        leap: sel?.leap ?? 3,
        configuredOptions: opts,
        effectiveOptions: opts,
        lastSampleAgo: sel?.lastSampleAgo ?? 0,
        score: r?.scores.get(s.id) ?? 0,
        lowLimit: iv?.low ?? 0,
        highLimit: iv?.high ?? 0,
      };
    });
  }

  /** chronyc `activity` (unresolved names are the daemon's to add). */
  activity(): ActivityReport {
    const a: ActivityReport = {
      online: 0,
      offline: 0,
      burstOnline: 0,
      burstOffline: 0,
      unresolved: 0,
    };
    for (const s of this.#sources.values()) {
      switch (s.mode) {
        case "online":
          a.online++;
          break;
        case "offline":
          a.offline++;
          break;
        case "burst-online":
          a.burstOnline++;
          break;
        case "burst-offline":
          a.burstOffline++;
          break;
      }
    }
    return a;
  }

  #byAddress(address: string): NtpSource | undefined {
    for (const s of this.#sources.values()) if (s.addressText === address) return s;
    return undefined;
  }

  /** chronyc `ntpdata` for one source address. */
  ntpData(address: string): NtpDataReport | null {
    return this.#byAddress(address)?.ntpData() ?? null;
  }

  /** chronyc `sourcename`. */
  sourceName(address: string): string | null {
    return this.#byAddress(address)?.name ?? null;
  }

  // ---------------------------------------------------------------- commands

  /** `makestep` without arguments: step the outstanding correction now. */
  makeStepNow(): ControlResult {
    const stepped = this.clock.makeStepNow();
    this.#log("warning", `System clock was stepped by ${stepped.toFixed(6)} seconds`);
    return { ok: true };
  }

  /** `makestep THRESHOLD LIMIT`. */
  modifyMakeStep(threshold: number, limit: number): ControlResult {
    if (!(threshold >= 0)) return { ok: false, status: "invalid" };
    this.reference.modifyMakeStep(threshold, limit);
    return { ok: true };
  }

  #matching(match: SourceMatch): NtpSource[] {
    return [...this.#sources.values()].filter((s) => matchesSource(s.addressText, match));
  }

  /** `burst GOOD/MAX [mask/addr]`. */
  burst(match: SourceMatch, good: number, total: number): ControlResult {
    if (!(good >= 1) || !(total >= good)) return { ok: false, status: "invalid" };
    const list = this.#matching(match);
    if (list.length === 0 && match.address !== null && match.mask === null) {
      return { ok: false, status: "nosuchsource" };
    }
    for (const s of list) s.burst(good, total);
    return { ok: true };
  }

  /** `online` / `offline` [mask/addr]. */
  setConnectivity(match: SourceMatch, online: boolean): ControlResult {
    const list = this.#matching(match);
    if (list.length === 0 && match.address !== null && match.mask === null) {
      return { ok: false, status: "nosuchsource" };
    }
    for (const s of list) s.setOnline(online);
    return { ok: true };
  }

  /** `onoffline`: the engine cannot see routes, so every source goes online. */
  onOffline(): ControlResult {
    for (const s of this.#sources.values()) s.setOnline(true);
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
    this.#selector.reselect();
    this.#select(null);
    return { ok: true };
  }

  /** `reselectdist DIST`. */
  reselectDistance(distance: number): ControlResult {
    if (!(distance >= 0)) return { ok: false, status: "invalid" };
    this.#selector.setReselectDistance(distance);
    return { ok: true };
  }

  /** `maxupdateskew PPM`. */
  maxUpdateSkew(ppm: number): ControlResult {
    if (!(ppm > 0)) return { ok: false, status: "invalid" };
    this.reference.modifyMaxUpdateSkew(ppm);
    return { ok: true };
  }

  /** Per-source modifiers (minpoll, maxpoll, maxdelay, maxdelayratio, ...). */
  modifySource(address: string, field: string, value: number): ControlResult {
    const s = this.#byAddress(address);
    if (s === undefined) return { ok: false, status: "nosuchsource" };
    const key = MODIFIABLE[field];
    if (key === undefined || !Number.isFinite(value)) return { ok: false, status: "invalid" };
    s.modify(key, value);
    return { ok: true };
  }

  /** `reset sources`: drop every sample history. */
  resetSources(): ControlResult {
    for (const s of this.#sources.values()) {
      s.stats.reset();
      s.resetHistory();
      this.#selector.forget(s.id);
    }
    this.#select(null);
    return { ok: true };
  }

  /** `dfreq PPM` (tempus sense: > 0 makes the clock faster). */
  adjustFrequency(dfreqPpm: number): ControlResult {
    if (!Number.isFinite(dfreqPpm)) return { ok: false, status: "invalid" };
    this.clock.accumulateFrequencyAndOffset(dfreqPpm, 0, 0);
    this.#log("info", `Accumulated delta freq of ${dfreqPpm.toFixed(3)}ppm`);
    return { ok: true };
  }

  /** `doffset SECONDS` (> 0 moves the clock forward), slewed as fast as allowed. */
  adjustOffset(offset: number): ControlResult {
    if (!Number.isFinite(offset)) return { ok: false, status: "invalid" };
    this.clock.accumulateOffset(offset, 0);
    this.#log("info", `Accumulated delta offset of ${offset.toFixed(6)} seconds`);
    return { ok: true };
  }

  /** `manual list`. */
  manualList(): ManualSampleReport[] {
    return this.#manual.list();
  }

  /** `manual on|off|reset`. */
  manual(mode: "on" | "off" | "reset"): ControlResult {
    if (mode === "on") this.#manual.enable();
    else if (mode === "off") this.#manual.disable();
    else this.#manual.reset();
    return { ok: true };
  }

  /** `manual delete N`: drops entry N and applies the new estimate. */
  manualDelete(index: number): ControlResult {
    const r = this.#manual.delete(index, this.clock.cookedNow(), this.clock.freqPpm);
    if (!r.ok) return { ok: false, status: r.status, message: r.message };
    this.reference.setManualReference(r.update.offset, r.update.freqPpm, r.update.skewPpm);
    return { ok: true };
  }

  /** `settime`: the operator's true time becomes a manual reference update. */
  setTime(trueTime: Instant): ControlResult | { ok: true; report: ManualTimestampReport } {
    const r = this.#manual.accept(this.clock.cookedNow(), trueTime, this.clock.freqPpm);
    if (!r.ok) return { ok: false, status: r.status, message: r.message };
    this.reference.setManualReference(r.update.offset, r.update.freqPpm, r.update.skewPpm);
    return { ok: true, report: r.report };
  }

  /** `local` on (with options) or off. */
  local(enabled: boolean, stratum?: number, distance?: number, orphan?: boolean): ControlResult {
    if (!enabled) {
      this.reference.setLocal(null);
      return { ok: true };
    }
    const base: LocalConfig = this.#config.local ?? {
      stratum: 10,
      distance: 1,
      orphan: false,
      waitUnsynced: 0,
      waitSynced: 0,
      activate: 0,
    };
    this.reference.setLocal({
      ...base,
      stratum: stratum ?? base.stratum,
      distance: distance ?? base.distance,
      orphan: orphan ?? base.orphan,
    });
    return { ok: true };
  }
}
