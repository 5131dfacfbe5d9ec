/**
 * Gives back the clean file pages a process touched while starting: madvise(MADV_DONTNEED)
 * over its read-only file mappings that hold no private page.
 *
 * Why: most of an idle Deno daemon's resident set is the deno executable's own code and
 * read-only data (its TypeScript transpiler, module loader and the like), paged in while
 * the program loads and never touched again. They are clean page-cache pages: dropping
 * them from this process's page tables loses nothing, and any the daemon still uses come
 * back on their next touch (a minor fault from the page cache, or a read of the file if
 * the kernel has evicted it meanwhile).
 *
 * Which mappings: file-backed (a path, not `[heap]` or an anonymous area), not writable,
 * with `Anonymous: 0 kB` (no page was ever copied on write: a RELRO segment, written by the
 * dynamic linker before it was made read-only, or code a debugger patched, has private
 * pages that MADV_DONTNEED would throw away) and `Locked: 0 kB` (mlockall, `-m`, asked for
 * everything to stay resident; madvise would fail there anyway). A non-writable mapping
 * cannot gain a private page later without an mprotect, which nothing in the process does
 * to file mappings.
 *
 * The map is read from /proc/self/smaps through libc: Deno's permission sandbox refuses
 * /proc/self (and /proc/PID of the process itself) to anything short of --allow-all, and
 * this reads only the process's own memory map.
 *
 * @module
 */
import { closeFd, lastErrno, O_CLOEXEC, O_RDONLY, openPath, readFd } from "./libc.ts";
import { ErrnoError } from "./errno.ts";

/** MADV_DONTNEED (asm-generic/mman-common.h). */
const MADV_DONTNEED = 4;

const SYMBOLS = {
  madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

/** One mapping of /proc/self/smaps with the fields the release needs. */
export interface MappingUsage {
  /** First address. */
  start: bigint;
  /** One past the last address. */
  end: bigint;
  /** Permissions as smaps prints them, e.g. `r-xp`. */
  perms: string;
  /** The mapped file's path, `[heap]`-style names, or "" for an anonymous area. */
  path: string;
  /** Resident kB. */
  rssKb: number;
  /** kB of private (copied or anonymous) pages. */
  anonymousKb: number;
  /** kB locked into RAM. */
  lockedKb: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\d+\s*(.*)$/;
const FIELD = /^(Rss|Anonymous|Locked):\s+(\d+) kB$/;

/**
 * Parses the text of /proc/PID/smaps. Lines that are neither a mapping header nor a field
 * are skipped; a field before any header is ignored. Pure.
 */
export function parseSmaps(text: string): MappingUsage[] {
  const out: MappingUsage[] = [];
  let current: MappingUsage | null = null;
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header !== null) {
      current = {
        start: BigInt(`0x${header[1]}`),
        end: BigInt(`0x${header[2]}`),
        perms: header[3],
        path: header[4].trim(),
        rssKb: 0,
        anonymousKb: 0,
        lockedKb: 0,
      };
      out.push(current);
      continue;
    }
    const field = FIELD.exec(line);
    if (field === null || current === null) continue;
    const kb = Number(field[2]);
    if (field[1] === "Rss") current.rssKb = kb;
    else if (field[1] === "Anonymous") current.anonymousKb = kb;
    else current.lockedKb = kb;
  }
  return out;
}

/**
 * The mappings whose resident pages can be dropped without losing anything: file-backed,
 * not writable, no private page, nothing locked, something resident. Pure.
 */
export function releasableMappings(maps: MappingUsage[]): MappingUsage[] {
  return maps.filter((m) =>
    m.path.startsWith("/") && m.perms[1] !== "w" && m.anonymousKb === 0 &&
    m.lockedKb === 0 && m.rssKb > 0 && m.end > m.start
  );
}

/** Reads /proc/self/smaps through libc (see the module comment for why not Deno). */
export function readOwnSmaps(): string {
  const fd = openPath("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  try {
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = readFd(fd, buf);
      if (n === 0) break;
      chunks.push(buf.slice(0, n));
    }
    const decoder = new TextDecoder();
    return chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
  } finally {
    closeFd(fd);
  }
}

/** What {@link releaseCleanFilePages} did. */
export interface PageRelease {
  /** Mappings advised. */
  mappings: number;
  /** Their resident kB before the call (what this process gave back). */
  releasedKb: number;
}

/**
 * Drops this process's resident clean file pages (the module comment says which and why).
 * Throws when smaps cannot be read or madvise fails.
 */
export function releaseCleanFilePages(): PageRelease {
  const targets = releasableMappings(parseSmaps(readOwnSmaps()));
  let releasedKb = 0;
  for (const m of targets) {
    if (symbols().madvise(m.start, m.end - m.start, MADV_DONTNEED) !== 0) {
      throw new ErrnoError(`madvise(${m.path})`, lastErrno());
    }
    releasedKb += m.rssKb;
  }
  return { mappings: targets.length, releasedKb };
}
