/**
 * chronyd's process options applied to the daemon process: -m (lock memory into RAM) and
 * -P PRIORITY (SCHED_FIFO for every thread that exists at start). As in chronyd, a failure
 * is logged as an error and the daemon carries on.
 *
 * @module
 */
import { lockAllMemory, setFifoScheduler } from "../../ffi/process.ts";
import type { LogLevel } from "../base/ports.ts";
import { errorMessage } from "../base/errors.ts";

/** What -m / -P did, to be logged once logging is up. */
export interface ProcessNote {
  /** Log level. */
  level: LogLevel;
  /** The message. */
  message: string;
}

/** The thread ids of this process (/proc/self/task). */
export function threadIds(): number[] {
  const ids: number[] = [];
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    const tid = Number(entry.name);
    if (Number.isInteger(tid)) ids.push(tid);
  }
  return ids.sort((a, b) => a - b);
}

/** Applies -m and -P; returns the lines to log. */
export function applyProcessOptions(
  options: { lockMemory: boolean; schedPriority: number },
): ProcessNote[] {
  const notes: ProcessNote[] = [];
  if (options.schedPriority > 0) {
    try {
      const tids = threadIds();
      for (const tid of tids) setFifoScheduler(tid, options.schedPriority);
      notes.push({
        level: "info",
        message:
          `Enabled SCHED_FIFO with priority ${options.schedPriority} (${tids.length} threads)`,
      });
    } catch (error) {
      notes.push({
        level: "error",
        message: `sched_setscheduler() failed: ${errorMessage(error)}`,
      });
    }
  }
  if (options.lockMemory) {
    try {
      lockAllMemory();
      notes.push({ level: "info", message: "Successfully locked into RAM" });
    } catch (error) {
      notes.push({ level: "error", message: `Memory not locked into RAM: ${errorMessage(error)}` });
    }
  }
  return notes;
}
