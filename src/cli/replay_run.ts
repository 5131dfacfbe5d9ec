/**
 * Replays recorded measurements (chrony-style measurements.log, `log measurements` or
 * `log rawmeasurements`) through tempus's Engine in the simulator's virtual time. Every
 * request the engine sends to a recorded source is answered with the recorded samples
 * in order, once each (a request gets no reply when the next recorded sample lies after the
 * current second, as when the original daemon got none): the reply's timestamps are built
 * from the engine's own clock so that the engine measures exactly the recorded offset and
 * delay. A recording that keeps each sample's time and the server's processing time
 * (`recordmeasurements`) is replayed on the original's timeline: each request goes out when
 * the original's did, its reply arrives when the original's did and is handled when the
 * original handled it. What the engine then does (accepts or rejects each sample, selects,
 * updates the clock) is collected as events.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../config/defaults.ts";
import type { Config, SourceParams } from "../config/model.ts";
import { Engine } from "../core/engine/engine.ts";
import type { NtpTransport, RandomPort, SocketAddress } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import type { MeasurementEntry } from "../io/log_parse.ts";
import { decodePacket, encodePacket, type NtpPacket } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { LogCapture } from "../sim/log_capture.ts";
import { SimRandom } from "../sim/prng.ts";
import { SimClock } from "../sim/sim_clock.ts";
import { SimTimers } from "../sim/sim_timers.ts";
import { SIM_CLOCK_PRECISION } from "../sim/tempus_engine.ts";
import { VirtualTime } from "../sim/virtual_time.ts";

/** One thing the engine did during the replay. */
export type ReplayEvent =
  | {
    kind: "sample";
    t: number;
    source: string;
    offset: number;
    delay: number;
    accepted: boolean;
    /** The recording's verdict (the original daemon used the sample: every test passed). */
    recorded: boolean;
    /** Log lines the engine wrote while handling it (why it was rejected, ...). */
    why: string[];
    /** The engine's time of the measurement (cooked, Unix s), midway between T1 and T4. */
    sampleTime?: number;
  }
  | {
    kind: "update";
    t: number;
    offset: number;
    freqPpm: number;
    combined: number;
    selected: string | null;
    states: Record<string, string>;
  }
  | { kind: "log"; t: number; level: string; message: string }
  | { kind: "unanswered"; t: number; source: string };

/** What a replay produced. */
export interface ReplayResult {
  /** Events in time order. */
  events: ReplayEvent[];
  /** Recorded samples never asked for. */
  unused: number;
}

/** Options: the configuration (sources are taken from the records) and per-source options. */
export interface ReplayOptions {
  /** Configuration (default: chrony's defaults). */
  config?: Config;
  /** Source options by address (default: minpoll/maxpoll from the records' local poll). */
  params?: Map<string, SourceParams>;
  /**
   * The records' times are exact (recordmeasurements), not whole seconds: the replay starts
   * so that the engine's first request goes out when the original's did and, when every
   * record has its sample time, follows the original's timeline throughout (see the module).
   */
  exactTimes?: boolean;
  /** The recording daemon's clock precision, s (default: the simulator's 1 ns). */
  localPrecision?: number;
  /** Seconds to start earlier (found by a first pass in exact mode). */
  lead?: number;
}

const NS = 1_000_000_000n;

/** What each NTP test checks (chrony's names; bit i of ntpdata's tests, 1 = passed). */
const TEST_NAMES = [
  "test 1 (duplicate)",
  "test 2 (bogus: origin mismatch)",
  "test 3 (invalid timestamps)",
  "test 5 (authentication)",
  "test 6 (unsynchronised server)",
  "test 7 (root distance too large)",
  "test A (delay above maxdelay)",
  "test B (delay ratio above maxdelayratio)",
  "test C (delay jump above maxdelaydevratio)",
  "test D (synchronisation loop)",
];

/** The tests a sample failed, from ntpdata's test bits. */
export function failedTests(tests: number): string[] {
  return TEST_NAMES.filter((_, i) => (tests & (1 << i)) === 0);
}

/**
 * Source options inferred from the records: minpoll and maxpoll from the local polls logged
 * (else from the spacing of the samples), iburst when the first samples came in quick
 * succession.
 */
export function inferredParams(records: MeasurementEntry[], source: string): SourceParams {
  const mine = records.filter((r) => r.source === source);
  const polls = mine.map((r) => r.poll).filter((p): p is number => p !== undefined);
  let minPoll: number, maxPoll: number;
  if (polls.length > 0) {
    minPoll = Math.min(...polls);
    maxPoll = Math.max(...polls);
  } else {
    const gaps = mine.slice(1).map((r, i) => r.t - mine[i].t).filter((g) => g > 0).sort((a, b) =>
      a - b
    );
    const median = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : 64;
    minPoll = maxPoll = Math.round(Math.log2(Math.max(median, 1 / 64)));
  }
  const clamp = (p: number) => Math.max(-7, Math.min(24, p));
  return {
    ...DEFAULT_SOURCE_PARAMS,
    minPoll: clamp(minPoll),
    maxPoll: clamp(Math.max(minPoll, maxPoll)),
    iburst: mine.length >= 4 && mine[3].t - mine[0].t <= 8,
  };
}

/**
 * The reply to `request` that makes the engine measure exactly `r`'s offset and delay: T2
 * and T3 are built from the engine's T1 (`t1c`) and T4 (`t4c`), the server holding the
 * reply for whatever of the exchange the delay does not take.
 */
function replayedReply(
  request: NtpPacket,
  r: MeasurementEntry,
  t1c: Instant,
  t4c: Instant,
): Uint8Array {
  const delay = Math.max(0, r.delay);
  const t2 = t1c + BigInt(Math.round((delay / 2 + r.offset) * 1e9));
  const t3 = t4c + BigInt(Math.round((r.offset - delay / 2) * 1e9));
  return encodePacket({
    leap: 0,
    version: request.version,
    mode: 4,
    stratum: r.stratum ?? 1,
    poll: request.poll,
    precision: r.serverPrecision ?? -25,
    rootDelay: r.rootDelay ?? 0,
    rootDispersion: r.rootDispersion ?? 0,
    refId: 0x5245504c, // "REPL"
    refTime: instantToNtp64(t2 - 8n * NS),
    originTime: request.transmitTime,
    receiveTime: instantToNtp64(t2),
    transmitTime: instantToNtp64(t3 > t2 ? t3 : t2),
    extensions: [],
    mac: null,
  });
}

/**
 * `random` with every uniform draw 0: the engine's poll intervals, which chrony lengthens by
 * a random 0-2%, are then the shortest the original could have used, so the replay's
 * requests never go out after the original's did. Random octets (request cookies) stay
 * random.
 */
function earliestPolls(random: RandomPort): RandomPort {
  return { next: () => 0, fill: (bytes) => random.fill(bytes) };
}

/** Runs the replay. */
export function replay(records: MeasurementEntry[], options: ReplayOptions = {}): ReplayResult {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const events: ReplayEvent[] = [];
  if (sorted.length === 0) return { events, unused: 0 };
  // On the original's timeline: recordings that keep each sample's time (since 0a9992a);
  // older ones replay as they always did.
  const timeline = options.exactTimes === true && sorted.every((r) => r.sampleTime !== undefined);
  // Start just before the first request of the recording (exact) or its second (logs).
  const t0 = options.exactTimes
    ? sorted[0].t - Math.max(0, sorted[0].delay) - 0.002 - (options.lead ?? 0)
    : sorted[0].t - 1;
  const t1 = sorted[sorted.length - 1].t + 2;
  const start: Instant = BigInt(Math.floor(t0 * 1e6)) * 1000n;
  const vt = new VirtualTime(start);
  const clock = new SimClock(vt, { offset: 0, freq: 0, wander: 0 }, Math.ceil(t1 - t0) + 1, null);
  const timers = new SimTimers(vt, clock);
  const seconds = () => Number(vt.now) / 1e9;
  const log = new LogCapture(seconds, [], 100_000);
  const config: Config = { ...defaultConfig(), ...options.config, sources: [] };
  const pending = new Map<string, MeasurementEntry[]>();
  for (const r of sorted) {
    const list = pending.get(r.source) ?? [];
    list.push(r);
    pending.set(r.source, list);
  }
  let engine: Engine | null = null;
  let accepted = false;
  let logMark = 0;
  let updates: ReplayEvent[] | null = null;
  let firstSend: { now: number; recorded: number } | null = null;

  /** The engine handles `reply` (received at `t4c`); what it decided becomes events. */
  const handleReply = (
    requestId: number,
    address: string,
    reply: Uint8Array,
    t4c: Instant,
    r: MeasurementEntry,
  ) => {
    const eng = engine!;
    accepted = false;
    logMark = log.lines.length;
    updates = [];
    eng.receiveReply(requestId, reply, t4c);
    const data = eng.ntpData(address);
    const after = updates;
    updates = null;
    events.push({
      kind: "sample",
      t: seconds(),
      source: address,
      offset: r.offset,
      delay: r.delay,
      accepted,
      recorded: r.valid,
      why: [
        ...(accepted ? [] : failedTests(data?.tests ?? 0x3ff).map((n) => `failed ${n}`)),
        ...log.lines.slice(logMark).map((l) => l.message),
      ],
      ...(data?.sampleTime !== undefined ? { sampleTime: Number(data.sampleTime) / 1e9 } : {}),
    });
    events.push(...after);
  };

  const transport: NtpTransport = {
    send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
      const eng = engine!;
      const list = pending.get(to.address);
      const now = seconds();
      const decoded = decodePacket(packet);
      if (!list || !decoded.ok) return false;
      // The next recorded sample, in order, unless it lies in the future: the log's times
      // are truncated to the second, so "future" means after the current second.
      const next = list[0];
      // Exact times: the original sent within a fraction of its poll interval of now (the
      // engine randomises polls by 2%); whole-second logs: within the current second.
      const ahead = options.exactTimes
        ? Math.max(0.05, 0.5 * 2 ** (next?.poll ?? 0)) + Math.max(0, next?.delay ?? 0)
        : 1;
      if (next === undefined || next.t > now + ahead) {
        events.push({ kind: "unanswered", t: now, source: to.address });
        return true;
      }
      const r = list.shift()!;
      const delay = Math.max(0, r.delay);
      const delayNs = BigInt(Math.round(delay * 1e9));
      // The reply arrives after the delay and the server's processing time, which the local
      // interval, and so the sample's dispersion, includes.
      const exchangeNs = delayNs + BigInt(Math.round(Math.max(0, r.responseTime ?? 0) * 1e9));
      // When the original's request went out: half the exchange before its sample time, else
      // (older recordings) about the delay before it was accepted.
      const recordedTx = timeline
        ? r.sampleTime! - exchangeNs / 2n
        : BigInt(Math.round((r.t - delay) * 1e9));
      firstSend ??= { now, recorded: Number(recordedTx) / 1e9 };
      // On the original's timeline the request is held until then (the engine, whose poll
      // intervals are never randomised upward here, asks no later) and reported sent then, as
      // a kernel transmit timestamp would be: the engine's sample time is the original's, and
      // so are the sample intervals its regression, its asymmetry estimate and tests B and C
      // work with. Otherwise the exchange starts now.
      const hold = timeline ? recordedTx - eng.clock.cookedNow() : 0n;
      const exchange = () => {
        const t1c = eng.clock.cookedNow();
        if (hold > 0n) eng.transmitted(requestId, t1c);
        vt.scheduleIn(exchangeNs, () => {
          const t4c = eng.clock.cookedNow();
          const reply = replayedReply(decoded.packet, r, t1c, t4c);
          // Handed over when the original handled it (on its timeline), with T4 as its receive
          // timestamp: the clock update it causes then comes when the original's did, which
          // the offsets measured after it reflect.
          const lag = timeline ? BigInt(Math.round(r.t * 1e9)) - t4c : 0n;
          const deliver = () => handleReply(requestId, to.address, reply, t4c, r);
          if (lag > 0n) vt.scheduleIn(lag, deliver);
          else deliver();
        });
      };
      if (hold > 0n) vt.scheduleIn(hold, exchange);
      else exchange();
      return true;
    },
  };

  engine = new Engine(
    config,
    {
      driver: clock,
      timers,
      random: timeline ? earliestPolls(new SimRandom(1)) : new SimRandom(1),
      log,
    },
    null,
    { measurePrecision: () => options.localPrecision ?? SIM_CLOCK_PRECISION },
  );
  const eng = engine;
  eng.onSampleAccepted = () => accepted = true;
  eng.onReferenceUpdated = (u) => {
    const tracking = eng.tracking();
    const states: Record<string, string> = {};
    for (const s of eng.sources()) states[s.address] = s.state;
    (updates ?? events).push({
      kind: "update",
      t: seconds(),
      offset: u.offset,
      freqPpm: tracking.freqPpm,
      combined: u.combinedCount,
      selected: tracking.refAddress,
      states,
    });
  };
  for (const source of pending.keys()) {
    const params = options.params?.get(source) ?? inferredParams(sorted, source);
    eng.addSource("server", { address: source, port: 123 }, params, source);
  }
  eng.start(transport);
  vt.runUntil(BigInt(Math.ceil(t1)) * NS);
  eng.stop();
  for (const l of log.lines) {
    if (l.level === "info" || l.level === "warning" || l.level === "error") {
      events.push({ kind: "log", t: l.t, level: l.level, message: l.message });
    }
  }
  // Stable: a sample stays before the update it caused.
  events.sort((a, b) => a.t - b.t);
  let unused = 0;
  for (const list of pending.values()) unused += list.length;
  if (options.exactTimes && options.lead === undefined && firstSend !== null) {
    // Second pass: start earlier by the engine's start-up delay so that its requests go out
    // when the original's did.
    const f: { now: number; recorded: number } = firstSend;
    return replay(records, { ...options, lead: Math.max(0, f.now - f.recorded) });
  }
  return { events, unused };
}
