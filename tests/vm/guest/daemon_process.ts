/**
 * Runs `tempus daemon` in the guest as a child process, collecting its log, and stops it.
 *
 * @module
 */
import { sleep } from "./util.ts";

/** A running daemon. */
export interface DaemonProcess {
  /** Everything it wrote so far (stdout and stderr). */
  log(): string;
  /** True once it has exited. */
  exited(): boolean;
  /** Waits until the log matches `pattern`; false at the timeout or when it exits. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<boolean>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it is gone. */
  stop(): Promise<void>;
}

/** The project root in the guest. */
export const ROOT = new URL("../../..", import.meta.url).pathname;

/** Runs `deno run mod.ts <args>` to completion (for tempus commands). */
export async function tempusCommand(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", "--cached-only", `${ROOT}mod.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

/** Writes `conf` to a file and starts `tempus daemon -f FILE -d ...extraArgs`. */
export function startDaemonProcess(conf: string, extraArgs: string[] = []): DaemonProcess {
  const confPath = `/tmp/tempus-${Math.floor(Math.random() * 1e9)}.conf`;
  Deno.mkdirSync("/run/tempus", { recursive: true, mode: 0o750 });
  Deno.mkdirSync("/var/run/tempus", { recursive: true, mode: 0o750 });
  Deno.writeTextFileSync(confPath, conf);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      "--cached-only",
      `${ROOT}mod.ts`,
      "daemon",
      "-f",
      confPath,
      "-d",
      ...extraArgs,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: string[] = [];
  let done = false;
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      chunks.push(decoder.decode(chunk, { stream: true }));
      if (chunks.length > 4000) chunks.splice(0, chunks.length - 4000);
    }
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]).catch(() => {});
  child.status.then(() => done = true);
  return {
    log: () => chunks.join(""),
    exited: () => done,
    async waitForLog(pattern, timeoutMs) {
      const end = performance.now() + timeoutMs;
      while (performance.now() < end) {
        if (pattern.test(chunks.join(""))) return true;
        if (done) return false;
        await sleep(100);
      }
      return pattern.test(chunks.join(""));
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 3000);
      await child.status;
      clearTimeout(timer);
      await reading;
    },
  };
}
