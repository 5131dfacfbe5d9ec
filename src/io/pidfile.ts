/**
 * The pidfile: refuses to start when another live tempus holds it, writes our pid, and
 * removes it on shutdown.
 *
 * @module
 */

/** Reads the pid stored in `path`, or null when missing or unreadable. */
export function readPid(path: string): number | null {
  try {
    const text = Deno.readTextFileSync(path).trim();
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
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
 * Writes our pid to `path` (creating its directory). Throws an Error with a clear message
 * when another live process already holds the pidfile.
 */
export function acquirePidFile(path: string): void {
  const existing = readPid(path);
  if (existing !== null && existing !== Deno.pid && processAlive(existing)) {
    throw new Error(`another tempus (pid ${existing}) is running (pidfile ${path})`);
  }
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(path, `${Deno.pid}\n`);
}

/** Removes the pidfile if it still holds our pid. */
export function releasePidFile(path: string): void {
  if (readPid(path) === Deno.pid) {
    try {
      Deno.removeSync(path);
    } catch {
      // already gone
    }
  }
}
