/**
 * The engine's registry, routing and sequencing: a LocalClock over the driver, the sources
 * by id, replies routed to the source that sent the request, and the outcomes sources
 * return carried out in order - sends, wake-ups (spaced between sources), the selection
 * after a new sample, the reference update and then the clock-change corrections of every
 * source, never while a source's own call is on the stack.
 *
 * @module
 */
import type { Config, RefclockConfig, SourceParams, SourceType } from "../../config/model.ts";
import type { KeyStore } from "../../ntp/keyfile.ts";
import { refIdFromAddress } from "../../ntp/packet.ts";
import { LocalClock } from "../local_clock.ts";
import { ManualInput } from "../manual.ts";
import type { LogLevel, NtpTransport, SocketAddress } from "../../base/ports.ts";
import { Reference } from "../reference.ts";
import type { SelectionResult, SourceSelector } from "../select/mod.ts";
import { NtpSource } from "../source/ntp_client.ts";
import { RefclockSource } from "../source/refclock.ts";
import type { RefclockSampleLog } from "../source/refclock_types.ts";
import type { PacketAuthenticator } from "../source/packet_auth.ts";
import { findRefclock } from "../source/refclock_lookup.ts";
import { PeerSource } from "../source/peer.ts";
import type { Source, SourceContext, SourceOutcome } from "../source/source.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";
import { selectionCandidate } from "./candidates.ts";
import { jumpWatchingTimers } from "./jump_timers.ts";
import { OneShotController } from "./one_shot.ts";
import type { EngineDeps, EngineOptions, ReferenceUpdate } from "./types.ts";
import { RequestRoutes } from "./routes.ts";
import { newSelector, newSourceStats } from "./source_factory.ts";
import { SourceWakes } from "./wakes.ts";

/** Registry, routing and sequencing; `Engine` adds the reports and commands. */
export class EngineCore {
  /** The disciplined local clock. */
  readonly clock: LocalClock;
  /** The reference (clock discipline). */
  readonly reference: Reference;
  /** Called when a source should be replaced (unreachable, falseticker, KoD DENY). */
  onReplaceSource: ((id: number) => void) | null = null;
  /** Called when tempus must exit (maxchange). */
  onFatal: ((message: string) => void) | null = null;
  /** Called after a source accepted a new sample (before selection): for measurement logs. */
  onSampleAccepted: ((id: number) => void) | null = null;
  /**
   * Called after every reply to one of a source's requests was processed (its ntpData then
   * shows the reply's test bits and counters): measurements.log.
   */
  onReply: ((id: number) => void) | null = null;
  /** TAI - UTC at a cooked time, or null when unknown: refclocks with the `tai` option. */
  refclockTaiOffset: ((t: Instant) => number | null) | null = null;
  /** Called with each refclock sample, raw and filtered: refclocks.log. */
  onRefclockSample: ((r: RefclockSampleLog) => void) | null = null;
  /** Called after each reference update with what was applied: for tracking logs. */
  onReferenceUpdated: ((update: ReferenceUpdate) => void) | null = null;

  /** The configuration. */
  protected readonly config: Config;
  /** The selector. */
  protected readonly selector: SourceSelector;
  /** Manual input (settime). */
  protected readonly manualInput: ManualInput;
  /** The sources by id, in order of addition. */
  protected readonly registry = new Map<number, Source>();
  /** The newest selection, for reports. */
  protected lastResult: SelectionResult | null = null;
  readonly #deps: EngineDeps;
  /** Open requests by request id. */
  protected readonly routes: RequestRoutes = new RequestRoutes();
  readonly #wakes: SourceWakes;
  readonly #localRefId: number | undefined;
  readonly #keys: KeyStore | null;
  readonly #oneShot: OneShotController | null;
  #transport: NtpTransport | null = null;
  /** Sends from the NTP server socket (symmetric peers), once the daemon opened it. */
  #ntpPort: NtpTransport | null = null;
  #nextSourceId = 1;
  #selectedId: number | null = null;

  /** Builds the engine; `initialDrift` comes from the driftfile (tempus sense). */
  constructor(
    config: Config,
    deps: EngineDeps,
    initialDrift: { freqPpm: number; skewPpm: number } | null = null,
    options: EngineOptions = {},
  ) {
    this.config = config;
    this.#deps = deps;
    this.#oneShot = options.oneShot ? new OneShotController(options.oneShot) : null;
    this.#localRefId = options.localRefId;
    this.#keys = options.keys ?? null;
    this.clock = new LocalClock(deps.driver, deps.timers, {
      maxSlewRate: config.maxSlewRate,
      maxDrift: config.maxDrift,
      precision: config.clockPrecision,
      measurePrecision: options.measurePrecision,
      initialFrequencyPpm: initialDrift?.freqPpm ?? null,
      slewTimerMargin: options.slewTimerMargin,
    });
    this.reference = new Reference(config, { ...deps, clock: this.clock }, initialDrift);
    this.reference.onFatal = (m) => this.onFatal?.(m);
    this.selector = newSelector(config, options.localRefId);
    this.manualInput = new ManualInput({ enabled: config.manual });
    this.clock.addObserver((c) => this.#onClockChange(c));
    // Timers of sources watch for outside steps of the clock (chrony's sched.c).
    this.#wakes = new SourceWakes(
      jumpWatchingTimers(deps.timers, this.clock, deps.log),
      this.clock,
    );
  }

  /** Drift values to persist: (absolute frequency ppm tempus sense, skew ppm). */
  get onDriftUpdate(): ((freqPpm: number, skewPpm: number) => void) | null {
    return this.reference.onDriftUpdate;
  }

  /** Sets the drift callback (at most every driftfile interval, and at stop). */
  set onDriftUpdate(fn: ((freqPpm: number, skewPpm: number) => void) | null) {
    this.reference.onDriftUpdate = fn;
  }

  /** Writes a log line. */
  protected log(level: LogLevel, message: string): void {
    this.#deps.log.log(level, message);
  }

  #onClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") this.reference.handleUnknownStep();
    else this.reference.applyClockChange(change);
    this.manualInput.applyClockChange(change);
    for (const s of this.registry.values()) {
      s.stats.applyClockChange(change);
      s.applyClockChange(change);
    }
  }

  /** Starts polling every source, sending through `transport`. */
  start(transport: NtpTransport): void {
    if (this.#transport !== null) return;
    this.#transport = transport;
    for (const s of this.registry.values()) this.run(s, s.start(this.context(s)));
  }

  /** Stops polling and timers; hands the final drift to onDriftUpdate. */
  stop(): void {
    if (this.#transport === null) return;
    this.#transport = null;
    for (const s of this.registry.values()) this.#stopSource(s);
    this.reference.stop();
    this.clock.stop();
    this.reference.flushDrift();
  }

  #stopSource(s: Source): void {
    s.stop();
    this.#wakes.cancel(s.id);
    this.routes.dropSource(s);
  }

  /** True between `start` and `stop`. */
  protected get running(): boolean {
    return this.#transport !== null;
  }

  /** The read-only context a source sees during one call. */
  protected context(s: Source): SourceContext {
    const reference = this.reference;
    return {
      now: this.clock.cookedNow(),
      selected: this.#selectedId === s.id,
      reference: () => reference.state(),
      localRefId: this.#localRefId,
      isLeapSecondClose: (t) => reference.isLeapSecondClose(t),
    };
  }

  /**
   * Carries out a source's outcomes, in order; `samplesBefore` is the source's sample count
   * before the call that returned them (a reply's sample is already in its statistics).
   */
  protected run(s: Source, outcomes: SourceOutcome[], samplesBefore?: number): void {
    for (const o of outcomes) {
      switch (o.kind) {
        case "send":
          this.#send(s, o.token, o.to, o.bytes, o.via);
          break;
        case "wake":
          this.#wakes.wake(
            s,
            o.delay,
            o.fromLastTx,
            o.separation,
            () => this.run(s, s.timeout(this.context(s))),
          );
          break;
        case "cancel-wake":
          this.#wakes.cancel(s.id);
          break;
        case "sample":
          this.onSampleAccepted?.(s.id);
          this.select(s.id);
          break;
        case "reachability":
          if (this.#oneShot !== null) {
            // As in chrony, the check comes before the reply's own sample is counted.
            this.#oneShot.checkEnd(
              this.registry.values(),
              { id: s.id, samples: samplesBefore ?? s.stats.sampleCount },
              this.#deps.log,
              () => this.#stopAll(),
            );
          }
          // Selection can change with unreachable sources (chrony SRC_UpdateReachability).
          if (s.reachability === 0) this.select(null);
          break;
        case "replace":
          this.onReplaceSource?.(s.id);
          break;
        case "demobilize":
          this.select(null);
          this.onReplaceSource?.(s.id);
          break;
        case "log":
          this.log(o.level, o.message);
          break;
      }
    }
  }

  #stopAll(): void {
    for (const s of this.registry.values()) this.#stopSource(s);
  }

  #send(
    s: Source,
    token: number,
    to: SocketAddress,
    bytes: Uint8Array,
    via?: "ntp-port",
  ): void {
    const rid = this.routes.open(s, token);
    this.#wakes.spacing.transmitted(s.id, this.clock.rawNow());
    const tx = this.clock.cookedNow();
    const transport = via === "ntp-port" ? this.#ntpPort : this.#transport;
    const ok = this.#transport !== null && (transport?.send(rid, to, bytes) ?? false);
    this.run(s, s.sent(token, ok, tx, this.context(s)));
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
    auth: PacketAuthenticator | null = null,
  ): number {
    const id = this.#nextSourceId++;
    const p: SourceParams = { ...params };
    if (this.#oneShot !== null) p.iburst = true;
    const stats = newSourceStats(this.config, this.clock.precision, p);
    const options = {
      id,
      address,
      name,
      params: p,
      precision: this.clock.precision,
      random: this.#deps.random,
      stats,
      maxClockError: this.config.maxClockError,
      key: p.key === null ? null : this.#keys?.get(p.key) ?? null,
    };
    const source = type === "peer"
      ? new PeerSource(options)
      : new NtpSource({ ...options, type, auth });
    return this.#enlist(id, source);
  }

  /**
   * Adds a reference clock with refid text `refId`; its driver (in the daemon) feeds it
   * through `refclockSample`. Returns the source id.
   */
  addRefclock(config: RefclockConfig, refId: string): number {
    const id = this.#nextSourceId++;
    const stats = newSourceStats(this.config, this.clock.precision, config);
    const source = new RefclockSource({
      id,
      config,
      refId,
      stats,
      precision: this.clock.precision,
      lookup: (ref) => findRefclock(this.registry.values(), ref),
      taiOffset: (t) => this.refclockTaiOffset?.(t) ?? null,
    });
    source.onSampleLog = (r) => this.onRefclockSample?.(r);
    return this.#enlist(id, source);
  }

  /**
   * Adds a source of any other kind (a broadcast client...) built by `make` from its id and
   * fresh statistics over `params`'s sample bounds, and starts it. Returns the source id.
   */
  addCustomSource(params: SourceParams, make: (id: number, stats: SourceStats) => Source): number {
    const id = this.#nextSourceId++;
    return this.#enlist(id, make(id, newSourceStats(this.config, this.clock.precision, params)));
  }

  /** Registers a new source and starts it when the engine runs. Returns its id. */
  #enlist(id: number, source: Source): number {
    this.registry.set(id, source);
    if (this.#transport !== null) this.run(source, source.start(this.context(source)));
    return id;
  }

  /** Removes a source. */
  removeSource(id: number): boolean {
    const s = this.registry.get(id);
    if (s === undefined) return false;
    this.#stopSource(s);
    this.registry.delete(id);
    this.#wakes.forget(id);
    this.selector.forget(id);
    if (this.#selectedId === id) {
      this.#selectedId = null;
      this.select(null);
    }
    return true;
  }

  /** Ids of the configured sources, in order. */
  sourceIds(): number[] {
    return [...this.registry.keys()];
  }

  /** The source object for an id (for the daemon and tests). */
  source(id: number): Source | undefined {
    return this.registry.get(id);
  }

  /**
   * Attaches the sender of symmetric packets: the daemon's NTP server socket (the peers'
   * `send` outcomes with `via: "ntp-port"`); until then, or with null, they count as lost.
   */
  attachNtpPort(transport: NtpTransport | null): void {
    this.#ntpPort = transport;
  }

  /** Runs the selection (after a new sample of `updatedId`, or null) and updates the reference. */
  protected select(updatedId: number | null): void {
    const now = this.clock.cookedNow();
    const result = this.selector.select(
      now,
      [...this.registry.values()].map((s) => selectionCandidate(s, now)),
      updatedId,
    );
    this.lastResult = result;
    this.#selectedId = result.selectedId;
    for (const m of result.messages) this.log(m.level, m.text);
    for (const id of result.replaceIds) this.onReplaceSource?.(id);
    if (result.combined !== null && result.selectedId !== null) {
      const sel = this.registry.get(result.selectedId)!;
      const c = result.combined;
      if (this.#oneShot !== null) {
        this.#oneShot.finish(this.clock, this.#deps.log, () => this.#stopAll(), {
          offset: c.offset + Number(now - c.refTime) / 1e9 * c.frequencyPpm * 1e-6,
          freqPpm: c.frequencyPpm,
          source: sel.addressText,
        });
        return;
      }
      const remainingBefore = this.clock.remainingCorrection();
      const { leapVote, ...estimate } = c;
      this.reference.update({
        ...estimate,
        leap: leapVote,
        refId: sel.refId ?? refIdFromAddress(sel.addressText) ?? 0,
        refAddress: sel.addressText,
      });
      this.onReferenceUpdated?.({
        offset: c.offset,
        offsetSd: c.offsetSd,
        combinedCount: c.combinedCount,
        remainingBefore,
      });
    } else if (result.unsynchronise) {
      // Holdover, as chrony's sources.c: losing every selectable source (unreachable, stale,
      // too few for minsources, waiting for statistics) only unselects the source; the
      // reference, its leap status and stratum survive with a root dispersion growing at the
      // clock's error bound. Only a lost majority sets the reference unsynchronised.
      this.reference.setUnsynchronised();
    }
  }
}
