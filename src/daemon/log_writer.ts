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

/** Test bits 1, 2, 3, 5, 6 and 7 (ntp_source TestBit): a synchronised reply. */
const SYNC_TESTS = 0b111111;

/** Connects `files` to `engine`'s hooks. */
export function attachLogFiles(engine: Engine, files: LogFiles): void {
  // measurements.log, as chrony: every synchronised reply (tests 1-3 and 5-7 passed) with
  // its test bits, whether or not tests A-D let it become a sample; with rawmeasurements,
  // every reply whose values were measured (tests 1-3 and 5 passed).
  // A reply was measured when the source's valid-reply count moved (tests 1-3 and 5 passed:
  // its values and test bits are then in ntpData).
  const validSeen = new Map<number, number>();
  engine.onRefclockSample = (r) => files.refclocks(r);
  engine.onReply = (id) => {
    const source = engine.sources().find((s) => s.id === id);
    if (source === undefined) return;
    const data = engine.ntpData(source.address);
    if (data === null) return;
    const valid = data.totalValidRx !== (validSeen.get(id) ?? 0);
    validSeen.set(id, data.totalValidRx);
    const tests = data.tests;
    const raw = files.enabled("rawmeasurements");
    const synced = valid && (tests & SYNC_TESTS) === SYNC_TESTS;
    if (!valid || !(raw || (synced && files.enabled("measurements")))) return;
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
