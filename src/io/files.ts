/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it,
 * rename it over the target, then fsync the directory. A reader (or a restart after a
 * crash or power loss) sees either the old content or the new one, never a mix or an
 * empty file.
 *
 * @module
 */

/** Options of an atomic write. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file (default 0o644). */
  mode?: number;
}

function splitPath(path: string): { dir: string; base: string } {
  const i = path.lastIndexOf("/");
  if (i < 0) return { dir: ".", base: path };
  return { dir: i === 0 ? "/" : path.slice(0, i), base: path.slice(i + 1) };
}

/**
 * The temporary name used while replacing `path`: one fixed hidden name per target (as
 * chronyd's `drift.tmp`), so a crash (kill -9 mid-write) leaves at most one file, which the
 * next write replaces.
 */
export function tempPathFor(path: string): string {
  const { dir, base } = splitPath(path);
  return `${dir === "/" ? "" : dir}/.${base}.tmp`;
}

/** Temp names of earlier versions: `.BASE.tmp-PID-RANDOM`, one left behind per crash. */
function oldTempPattern(base: string): RegExp {
  return new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.tmp-\\d+-[0-9a-f]{8}$`);
}

/**
 * Removes the temporary files an interrupted write of `path` left behind (the fixed name,
 * and the per-process names of earlier versions). Regular files only; never throws.
 * Returns the names removed.
 */
export function removeStaleTemps(path: string): string[] {
  const { dir, base } = splitPath(path);
  const old = oldTempPattern(base);
  const removed: string[] = [];
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (name !== `.${base}.tmp` && !old.test(name)) continue;
    try {
      Deno.removeSync(`${dir === "/" ? "" : dir}/${name}`);
      removed.push(name);
    } catch {
      // gone, or not ours to remove
    }
  }
  return removed;
}

/** Writes in flight per target, so that two writes of one file never share its temp name. */
const inFlight = new Map<string, Promise<void>>();

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

function syncDirSync(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  }
}

/**
 * Atomically replaces `path` with `data`. Rejects on I/O errors. Writes of one path are
 * queued one after another.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const previous = inFlight.get(path) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(() => writeNow(path, data, options));
  const tail = mine.catch(() => {});
  inFlight.set(path, tail);
  void tail.then(() => {
    if (inFlight.get(path) === tail) inFlight.delete(path);
  });
  return mine;
}

async function writeNow(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const tmp = tempPathFor(path);
  const bytes = toBytes(data);
  let renamed = false;
  try {
    await Deno.remove(tmp).catch(() => {});
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: options.mode ?? 0o644 });
    try {
      let written = 0;
      while (written < bytes.length) written += await f.write(bytes.subarray(written));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
    renamed = true;
    syncDirSync(splitPath(path).dir);
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
  }
}

/** A text file's content, or null when it does not exist (other errors throw). */
export function readTextIfPresent(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** A text file's content, or null when it cannot be read (missing, unreadable, a directory). */
export function readTextOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** A path's file information (following links), or null when it cannot be had. */
export function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/** Creates a directory and its parents if missing (mode for new directories: 0o755). */
export function ensureDirSync(dir: string, mode = 0o755): void {
  Deno.mkdirSync(dir, { recursive: true, mode });
}
