/**
 * Going to the background the way chronyd does: the command returns once the daemon is
 * ready (exit 0) or has failed (its exit code, its error lines on stderr), and the daemon
 * runs on in its own session with stdin, stdout and stderr on /dev/null.
 *
 * Deno cannot fork(), so the parent re-executes its own command line (/proc/self/cmdline)
 * with TEMPUS_DAEMON_CHILD set. The child reports on its stdout pipe: "READY" once every
 * socket, the pidfile and the privilege drop are done; the parent relays the child's stderr
 * until then. The pidfile therefore holds the daemon's own pid.
 *
 * @module
 */
import { redirectStdioToDevNull, setsid } from "../../ffi/process.ts";

/** The variable marking the re-executed daemon process. */
export const CHILD_ENV = "TEMPUS_DAEMON_CHILD";

const READY_LINE = "READY\n";

/** Reads an environment variable; undefined when unset or not permitted. */
export function envOrUndefined(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env for it: as if unset
  }
}

/** True in the re-executed background process. */
export function isBackgroundChild(
  env: (name: string) => string | undefined = envOrUndefined,
): boolean {
  return env(CHILD_ENV) === "1";
}

/** Everything that decides whether `tempus daemon` goes to the background. */
export interface ForegroundInputs {
  /** -n. */
  noFork: boolean;
  /** -d count. */
  debugLevel: number;
  /** -q / -Q. */
  oneShot: unknown;
  /** $NOTIFY_SOCKET (systemd Type=notify supervises its main process: no fork there). */
  notifySocket: string | undefined;
  /** Already the background child. */
  child: boolean;
}

/** True when the daemon must run in the calling process (no fork). */
export function staysInForeground(inputs: ForegroundInputs): boolean {
  return inputs.noFork || inputs.debugLevel > 0 || inputs.oneShot !== null ||
    (inputs.notifySocket ?? "") !== "" || inputs.child;
}

/**
 * The variable in which the launchers (`./tempus`, dist/tempus) pass the deno command line
 * they exec, one argument per line: under their permission sandbox Deno refuses to read
 * /proc/self/cmdline (it needs -A).
 */
export const COMMAND_LINE_ENV = "TEMPUS_COMMAND_LINE";

/** This process's argv as the kernel holds it (argv[0] included). */
export function ownCommandLine(): string[] {
  let raw: string;
  try {
    raw = Deno.readTextFileSync("/proc/self/cmdline");
  } catch (error) {
    const passed = envOrUndefined(COMMAND_LINE_ENV);
    if (!(error instanceof Deno.errors.NotCapable) || !passed) throw error;
    return passed.split("\n");
  }
  const parts = raw.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

async function relay(stream: ReadableStream<Uint8Array>): Promise<void> {
  for await (const chunk of stream) {
    let n = 0;
    while (n < chunk.length) n += Deno.stderr.writeSync(chunk.subarray(n));
  }
}

async function waitReady(stream: ReadableStream<Uint8Array>): Promise<boolean> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return false;
      text += decoder.decode(value, { stream: true });
      if (text.includes(READY_LINE)) return true;
    }
  } finally {
    reader.releaseLock();
    stream.cancel().catch(() => {});
  }
}

/**
 * The parent's side: starts the background daemon and waits until it is ready (returns 0)
 * or has exited (returns its exit code, at least 1). The child's stderr is relayed meanwhile.
 */
export async function startInBackground(): Promise<number> {
  const argv = ownCommandLine();
  const child = new Deno.Command(Deno.execPath(), {
    args: argv.slice(1),
    env: { [CHILD_ENV]: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const relaying = relay(child.stderr).catch(() => {});
  const outcome = await Promise.race([
    waitReady(child.stdout).then((ready) => ready ? "ready" as const : "eof" as const),
    child.status.then(() => "exited" as const),
  ]);
  if (outcome === "ready") {
    // The child points its stderr at /dev/null right after READY: the relay ends then.
    await Promise.race([relaying, new Promise((r) => setTimeout(r, 2000))]);
    child.unref();
    return 0;
  }
  const status = await child.status;
  await relaying;
  return status.code === 0 ? 1 : status.code;
}

/** The child's side, first thing: a session of its own (no controlling terminal). */
export function detachSession(): void {
  setsid();
}

/** The child's side, once ready: tells the parent and points stdio at /dev/null. */
export function signalReady(): void {
  const bytes = new TextEncoder().encode(READY_LINE);
  try {
    let n = 0;
    while (n < bytes.length) n += Deno.stdout.writeSync(bytes.subarray(n));
  } catch {
    // the parent is gone: nothing to tell
  }
  redirectStdioToDevNull();
}
