/**
 * The pidfile: refuses to start when another live tempus holds it, writes our pid, and
 * removes it on shutdown. A missing directory is created 0750 owned by the daemon's user
 * (never 0755: it is usually the command socket's directory too); the file is created
 * exclusively, so a link planted in its place is never followed.
 *
 * @module
 */
import { dirOf, ensurePrivateDir, type Owner } from "./private_dir.ts";
import { bestEffort } from "../base/errors.ts";
import { readTextOrNull } from "./files.ts";

/** Reads the pid stored in `path`, or null when missing or unreadable. */
export function readPid(path: string): number | null {
  const pid = Number.parseInt(readTextOrNull(path)?.trim() ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes our pid to `path`, creating a missing directory 0750 owned by `owner` (default:
 * the current process). Throws an Error with a clear message when another live process
 * already holds the pidfile, or when the file cannot be written.
 */
export function acquirePidFile(path: string, owner: Owner | null = null): void {
  const existing = readPid(path);
  if (existing !== null && existing !== Deno.pid && processAlive(existing)) {
    throw new Error(`another tempus (pid ${existing}) is running (pidfile ${path})`);
  }
  ensurePrivateDir(dirOf(path), 0o750, owner);
  try {
    const st = Deno.lstatSync(path);
    if (st.isDirectory) throw new Error(`pidfile ${path} is a directory`);
    Deno.removeSync(path); // a stale file, or a link: replaced, never written through
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    Deno.writeTextFileSync(path, `${Deno.pid}\n`, { createNew: true, mode: 0o644 });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not write pidfile ${path}: ${why}`);
  }
}

/** Removes the pidfile if it still holds our pid. */
export function releasePidFile(path: string): void {
  if (readPid(path) === Deno.pid) {
    bestEffort(() => Deno.removeSync(path));
  }
}
