/**
 * `recordmeasurements FILE`: appends every synchronised reply (tests 1-3 and 5-7 passed, as
 * measurements.log) to the recording with the daemon's verdict, so that `tempus replay` sees
 * the whole stream and can check each of its decisions against the daemon's. An accepted
 * sample is stamped when it was accepted, a rejected one when its reply was processed.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import type { Engine } from "../core/engine/engine.ts";
import type { SampleRecorder } from "../io/sample_record.ts";
import { measuredReplies } from "./log_writer.ts";

/** What the recording needs of the engine: its hooks, reports and clock. */
export type RecordedEngine =
  & Pick<Engine, "onSampleAccepted" | "onReply" | "sources" | "ntpData">
  & { clock: { cookedNow(): Instant } };

/**
 * Chains the recording onto `engine.onSampleAccepted` and `engine.onReply` (keeping the hooks
 * already there); a failed write is reported through `warn` once until a write succeeds
 * again, never thrown.
 */
export function attachSampleRecorder(
  engine: RecordedEngine,
  recorder: SampleRecorder,
  warn: (message: string) => void,
): void {
  const measured = measuredReplies(engine);
  const acceptedAt = new Map<number, Instant>();
  let failed = false;
  const previousAccepted = engine.onSampleAccepted;
  engine.onSampleAccepted = (id) => {
    previousAccepted?.(id);
    acceptedAt.set(id, engine.clock.cookedNow());
  };
  const previousReply = engine.onReply;
  engine.onReply = (id) => {
    previousReply?.(id);
    const t = acceptedAt.get(id);
    acceptedAt.delete(id);
    const reply = measured(id);
    if (reply === null || !reply.synced) return;
    const { source, data } = reply;
    try {
      recorder.write({
        t: t ?? engine.clock.cookedNow(),
        source: source.address,
        offset: data.offset,
        delay: data.peerDelay,
        poll: source.poll,
        accepted: t !== undefined,
        ...(data.sampleTime !== undefined ? { sampleTime: data.sampleTime } : {}),
        responseTime: data.responseTime,
        server: {
          stratum: data.stratum,
          precision: data.precision,
          rootDelay: data.rootDelay,
          rootDispersion: data.rootDispersion,
        },
      });
      failed = false;
    } catch (error) {
      if (!failed) warn(`Could not record a measurement: ${String(error)}`);
      failed = true;
    }
  };
}
