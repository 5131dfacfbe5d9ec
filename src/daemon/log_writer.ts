/**
 * Feeds chrony-style log files (`log measurements statistics tracking` under `logdir`) from
 * the engine's hooks and reports: a measurements.log and statistics.log line for every
 * accepted sample, a tracking.log line for every clock update.
 *
 * @module
 */
import type { Engine } from "../core/engine/engine.ts";
import type { LogFiles } from "../io/log_files.ts";

/** Connects `files` to `engine`'s hooks. */
export function attachLogFiles(engine: Engine, files: LogFiles): void {
  engine.onSampleAccepted = (id) => {
    const source = engine.sources().find((s) => s.id === id);
    if (source === undefined) return;
    const now = engine.clock.cookedNow();
    const data = engine.ntpData(source.address);
    if (data !== null && files.enabled("measurements")) {
      files.measurements({
        time: now,
        address: source.address,
        leap: data.leap as 0 | 1 | 2 | 3,
        stratum: data.stratum,
        tests: data.tests,
        localPoll: source.poll,
        remotePoll: data.poll,
        score: 0,
        offset: data.offset,
        peerDelay: data.peerDelay,
        peerDispersion: data.peerDispersion,
        rootDelay: data.rootDelay,
        rootDispersion: data.rootDispersion,
        refId: data.refId,
        mode: data.mode,
        interleaved: data.interleaved,
        txSource: "D",
        rxSource: "K",
        valid: true,
      });
    }
    const stats = engine.sourceStats().find((s) => s.id === id);
    if (stats !== undefined && files.enabled("statistics")) {
      files.statistics({
        time: now,
        address: source.address,
        stdDev: stats.stdDev,
        estimatedOffset: stats.estimatedOffset,
        offsetSd: stats.offsetSd ?? stats.estimatedOffsetError,
        residualFreqPpm: stats.residualFreqPpm,
        skewPpm: stats.skewPpm,
        stress: 0,
        samples: stats.samples,
        bestStart: 0,
        runs: stats.runs,
        asymmetry: stats.asymmetry ?? 0,
      });
    }
  };
  engine.onReferenceUpdated = (update) => {
    if (!files.enabled("tracking")) return;
    const t = engine.tracking();
    files.tracking({
      time: engine.clock.cookedNow(),
      reference: t.refAddress ?? "",
      stratum: t.stratum,
      freqPpm: t.freqPpm,
      skewPpm: t.skewPpm,
      offset: update.offset,
      leap: t.leapStatus,
      combinedSources: update.combinedCount,
      offsetSd: update.offsetSd,
      remainingCorrection: update.remainingBefore,
      rootDelay: t.rootDelay,
      rootDispersion: t.rootDispersion,
      maxError: t.rootDelay / 2 + t.rootDispersion + Math.abs(update.offset),
    });
  };
}
