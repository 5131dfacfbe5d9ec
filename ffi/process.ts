/**
 * Deno.dlopen bindings of the process-level libc calls chronyd's command-line options need:
 * setsid and dup2 (going to the background), mlockall with setrlimit(RLIMIT_MEMLOCK) (-m)
 * and sched_setscheduler (-P). libc.so.6 is opened on first use.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  setsid: { parameters: [], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mlockall: { parameters: ["i32"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  sched_setscheduler: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  sched_getscheduler: { parameters: ["i32"], result: "i32" },
} as const;

type ProcessLibc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: ProcessLibc | null = null;

function symbols(): ProcessLibc {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

function check(result: number, syscall: string): number {
  if (result < 0) throw new ErrnoError(syscall, lastErrno());
  return result;
}

/** setsid(): a new session without a controlling terminal. Returns the session id. */
export function setsid(): number {
  return check(symbols().setsid(), "setsid");
}

/** Points stdin, stdout and stderr at /dev/null (after a daemon has detached). */
export function redirectStdioToDevNull(): void {
  const s = symbols();
  const O_RDWR = 2;
  const fd = check(s.open(new TextEncoder().encode("/dev/null\0"), O_RDWR), "open(/dev/null)");
  for (const target of [0, 1, 2]) check(s.dup2(fd, target), "dup2");
  if (fd > 2) s.close(fd);
}

/** mlockall flags. */
export const MCL_CURRENT = 1;
/** Lock pages mapped in the future too. */
export const MCL_FUTURE = 2;
const RLIMIT_MEMLOCK = 8;

/**
 * Locks all current and future pages into RAM, as chronyd -m does: raises RLIMIT_MEMLOCK to
 * unlimited (where allowed: CAP_IPC_LOCK makes the limit irrelevant anyway), then
 * mlockall(MCL_CURRENT | MCL_FUTURE). Returns whether the limit was raised; throws
 * ErrnoError when mlockall fails.
 */
export function lockAllMemory(): boolean {
  const limit = new Uint8Array(16); // struct rlimit { rlim_t cur, max } = RLIM_INFINITY (~0)
  limit.fill(0xff);
  const raised = symbols().setrlimit(RLIMIT_MEMLOCK, limit) === 0;
  check(symbols().mlockall(MCL_CURRENT | MCL_FUTURE), "mlockall");
  return raised;
}

/** The SCHED_FIFO policy number. */
export const SCHED_FIFO = 1;

/**
 * Puts thread `tid` (0: the calling thread) under SCHED_FIFO at `priority` (1-99).
 * Throws ErrnoError on failure (EPERM without CAP_SYS_NICE).
 */
export function setFifoScheduler(tid: number, priority: number): void {
  const param = new Uint8Array(4); // struct sched_param { int sched_priority; }
  new DataView(param.buffer).setInt32(0, priority, true);
  check(symbols().sched_setscheduler(tid, SCHED_FIFO, param), "sched_setscheduler");
}

/** The scheduling policy of thread `tid` (0: the calling thread): 0 SCHED_OTHER, 1 FIFO... */
export function getScheduler(tid: number): number {
  return check(symbols().sched_getscheduler(tid), "sched_getscheduler");
}
