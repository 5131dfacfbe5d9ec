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

/** The temporary name used while replacing `path` (hidden, unique per process and call). */
export function tempPathFor(path: string): string {
  const { dir, base } = splitPath(path);
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  return `${dir === "/" ? "" : dir}/.${base}.tmp-${tag}`;
}

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

/** Atomically replaces `path` with `data` (synchronous). Throws on I/O errors. */
export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const tmp = tempPathFor(path);
  const bytes = toBytes(data);
  let renamed = false;
  try {
    const f = Deno.openSync(tmp, {
      write: true,
      create: true,
      truncate: true,
      mode: options.mode ?? 0o644,
    });
    try {
      let written = 0;
      while (written < bytes.length) written += f.writeSync(bytes.subarray(written));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
    renamed = true;
    syncDirSync(splitPath(path).dir);
  } finally {
    if (!renamed) {
      try {
        Deno.removeSync(tmp);
      } catch {
        // nothing to clean up
      }
    }
  }
}

/** Atomically replaces `path` with `data`. Rejects on I/O errors. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  const bytes = toBytes(data);
  let renamed = false;
  try {
    const f = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      mode: options.mode ?? 0o644,
    });
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

/** Creates a directory and its parents if missing (mode for new directories: 0o755). */
export function ensureDirSync(dir: string, mode = 0o755): void {
  Deno.mkdirSync(dir, { recursive: true, mode });
}
