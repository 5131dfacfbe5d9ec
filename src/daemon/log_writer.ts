/**
 * Feeds chrony-style log files (`log measurements statistics tracking` under `logdir`) from
 * the engine's hooks and reports: a measurements.log line for every synchronised reply
 * (every measured one with rawmeasurements), a statistics.log line for every accepted
 * sample, a tracking.log line for every clock update.
 *
 * @module
 */
import type { Engine } from "../core/engine/engine.ts";
import type { LogFiles } from "../io/log_files.ts";
import type { NtpDataReport, SourceReport } from "../core/reports.ts";

/** Test bits 1, 2, 3, 5, 6 and 7 (ntp_source TestBit): a synchronised reply. */
const SYNC_TESTS = 0b111111;

/** A reply whose values were measured (tests 1-3 and 5 passed), as `engine.onReply` saw it. */
export interface MeasuredReply {
  /** The source that got it. */
  source: SourceReport;
  /** Its values and test bits. */
  data: NtpDataReport;
  /** Tests 1-3 and 5-7 passed: chrony logs it in measurements.log (tests A-D decide use). */
  synced: boolean;
}

/**
 * Returns a function for `engine.onReply`'s source ids: the reply just processed when its
 * values were measured (the source's valid-reply count moved), else null. Keeps one count
 * per source, so each caller of onReply needs its own.
 */
export function measuredReplies(
  engine: Pick<Engine, "sources" | "ntpData">,
): (id: number) => MeasuredReply | null {
  const validSeen = new Map<number, number>();
  return (id) => {
    const source = engine.sources().find((s) => s.id === id);
    if (source === undefined) return null;
    const data = engine.ntpData(source.address);
    if (data === null) return null;
    const valid = data.totalValidRx !== (validSeen.get(id) ?? 0);
    validSeen.set(id, data.totalValidRx);
    if (!valid) return null;
    return { source, data, synced: (data.tests & SYNC_TESTS) === SYNC_TESTS };
  };
}

/** Connects `files` to `engine`'s hooks. */
export function attachLogFiles(engine: Engine, files: LogFiles): void {
  // measurements.log, as chrony: every synchronised reply (tests 1-3 and 5-7 passed) with
  // its test bits, whether or not tests A-D let it become a sample; with rawmeasurements,
  // every reply whose values were measured (tests 1-3 and 5 passed).
  const measured = measuredReplies(engine);
  engine.onRefclockSample = (r) => files.refclocks(r);
  engine.onReply = (id) => {
    const reply = measured(id);
    if (reply === null) return;
    const { source, data, synced } = reply;
    if (!(files.enabled("rawmeasurements") || (synced && files.enabled("measurements")))) return;
    files.measurements({
      ...data, // stratum, tests, offset, delays, dispersions, refId, mode, interleaved
      time: engine.clock.cookedNow(),
      address: source.address,
      leap: data.leap as 0 | 1 | 2 | 3,
      localPoll: source.poll,
      remotePoll: data.poll,
      score: data.pollScore ?? 0,
      txSource: data.txKernel === true ? "K" : "D",
      rxSource: data.rxKernel === true ? "K" : "D",
      valid: synced,
    });
  };
  engine.onSampleAccepted = (id) => {
    const source = engine.sources().find((s) => s.id === id);
    if (source === undefined) return;
    const now = engine.clock.cookedNow();
    const stats = engine.sourceStats().find((s) => s.id === id);
    if (stats !== undefined && files.enabled("statistics")) {
      files.statistics({
        ...stats, // stdDev, estimatedOffset, residualFreqPpm, skewPpm, samples, runs
        time: now,
        address: source.address,
        offsetSd: stats.offsetSd ?? stats.estimatedOffsetError,
        stress: stats.stress ?? 0,
        samples: stats.regressionSamples ?? stats.samples,
        bestStart: stats.bestStart ?? 0,
        asymmetry: stats.asymmetry ?? 0,
      });
    }
  };
  engine.onReferenceUpdated = (update) => {
    if (!files.enabled("tracking")) return;
    const t = engine.tracking();
    files.tracking({
      ...t, // stratum, freqPpm, skewPpm, rootDelay, rootDispersion
      time: engine.clock.cookedNow(),
      reference: t.refAddress ?? "",
      offset: update.offset,
      leap: t.leapStatus,
      combinedSources: update.combinedCount,
      offsetSd: update.offsetSd,
      remainingCorrection: update.remainingBefore,
      maxError: t.rootDelay / 2 + t.rootDispersion + Math.abs(update.offset),
    });
  };
}
