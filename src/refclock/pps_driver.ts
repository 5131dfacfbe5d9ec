/**
 * The PPS refclock driver (chrony's refclock_pps.c): the Linux PPS API polled every
 * 2^dpoll seconds with a zero-timeout PPS_FETCH; each new edge (its sequence number moved)
 * is a pulse - the system time of the edge, whose sub-second part is how far past the true
 * second the clock read. Which second it was is the core's business (`lock` or the
 * synchronised clock). A device that fails is closed and reopened at each poll.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { PpsDevice, PpsInfo } from "../../ffi/pps.ts";
import { pollRefclock, type RefclockDriverHandle } from "./driver.ts";

/** Where a pulse driver puts an edge: its CLOCK_REALTIME time (ns), its sub-second (s). */
export type RefclockPulseSink = (realtime: bigint, second: number) => void;

/** The sub-second of an edge time as a pulse's `second` (0 <= second < 1). */
export function edgeSecond(time: bigint): number {
  return Number(((time % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n) / 1e9;
}

/**
 * What a fetch means: the new edge (null when no new one) and the sequence to remember.
 * A time of zero (the kernel's "none yet") is no edge.
 */
export function newEdge(
  info: PpsInfo,
  clear: boolean,
  lastSequence: number | null,
): { edge: bigint | null; sequence: number } {
  const sequence = clear ? info.clearSequence : info.assertSequence;
  const time = clear ? info.clearTime : info.assertTime;
  if (sequence === lastSequence || time <= 0n) return { edge: null, sequence };
  return { edge: time, sequence };
}

/** Opens the device through `open` (throws: a start-up failure) and polls it. */
export function openPpsRefclock(
  open: () => PpsDevice,
  dpoll: number,
  sink: RefclockPulseSink,
  log: LogPort,
  name: string,
): RefclockDriverHandle {
  let last: number | null = null;
  const read = (device: PpsDevice) => ({ info: device.fetch(), clear: device.clear });
  return pollRefclock(name, log, dpoll, open, read, ({ info, clear }, counts, fresh) => {
    const r = newEdge(info, clear, last);
    last = r.sequence;
    // The edge already there when the device was (re)opened may be stale: skip it.
    if (r.edge === null || fresh) return;
    counts.accepted++;
    sink(r.edge, edgeSecond(r.edge));
  });
}
