/**
 * chronyd's dump files (chronyc `dump`, chronyd `-r`, and the dump at exit): one file per
 * source in `dumpdir`, named by the source's IP address ("192.0.2.1.dat") or, for a
 * reference clock, "refid:XXXXXXXX.dat", in chrony 4.3's format (sources.c save_source):
 *
 * ```
 * SRC0
 * NAME                                   (the configured name; "." for a refclock)
 * AUTH REACH(octal) REACH_SIZE STRATUM LEAP
 * N ASYMMETRY_RUN                        (then N samples: sourcestats.ts dump)
 * ```
 *
 * Files written by chronyd 4.3 load here and the other way round.
 *
 * @module
 */
import { join } from "node:path";
import type { Instant } from "../base/time.ts";
import type { LogPort } from "../base/ports.ts";
import type { LeapStatus } from "../core/reports.ts";
import type { SourceStats } from "../core/sourcestats.ts";
import type { Source } from "../core/source/source.ts";
import { bestEffort } from "../base/errors.ts";
import { readTextOrNull } from "../io/files.ts";
import { ipFamily } from "../base/ip.ts";

/** chrony's DUMP_IDENTIFIER, the first line of a dump file. */
export const DUMP_IDENTIFIER = "SRC0";

/** chrony's SOURCE_REACH_BITS: the reachability register's width. */
const REACH_BITS = 8;

/** What a dump file holds of one source, besides its samples. */
export interface DumpedSource {
  /** The file's base name without ".dat" (IP address or "refid:XXXXXXXX"). */
  fileName: string;
  /** The configured name ("." for a reference clock). */
  name: string;
  /** Authenticated source (key or NTS). */
  authenticated: boolean;
  /** Reachability register. */
  reachability: number;
  /** Polls counted in the register (0..8). */
  reachabilitySize: number;
  /** The source's statistics (samples, stratum, leap). */
  stats: SourceStats;
  /** Restores the reachability register (absent: the source keeps its own). */
  restoreReachability?: (register: number, size: number) => void;
}

/** The part of an engine source a dump needs. */
export interface DumpableSource extends
  Pick<
    Source,
    "addressText" | "refId" | "reachability" | "reachabilitySize" | "stats" | "restoreReachability"
  > {
  /** "refclock" or an NTP association type. */
  type: string;
  /** The source's key (null: not authenticated). */
  params: { key: number | null };
}

/** The dump-file view of an engine source; `name` is its configured name, if any. */
export function dumpedSource(source: DumpableSource, name: string | null): DumpedSource {
  const refclock = source.type === "refclock";
  return {
    fileName: refclock
      ? `refid:${((source.refId ?? 0) >>> 0).toString(16).padStart(8, "0")}`
      : source.addressText,
    name: refclock ? "." : name ?? source.addressText,
    authenticated: source.params.key !== null,
    reachability: source.reachability,
    reachabilitySize: source.reachabilitySize,
    stats: source.stats,
    restoreReachability: source.restoreReachability?.bind(source),
  };
}

/** The text of a source's dump file, or null when it has no sample (chrony writes none). */
export function dumpText(source: DumpedSource): string | null {
  const samples = source.stats.dump();
  const last = source.stats.lastSample();
  if (samples === null || last === null) return null;
  const reach = (source.reachability & 0xff).toString(8);
  return `${DUMP_IDENTIFIER}\n${source.name}\n` +
    `${source.authenticated ? 1 : 0} ${reach} ${source.reachabilitySize} ${last.stratum} ` +
    `${last.leap}\n${samples}`;
}

/** Why a dump file was not loaded, or the reachability it restores. */
export type LoadOutcome =
  | { ok: true; reachability: number; reachabilitySize: number }
  | { ok: false };

/**
 * Loads a dump file's text into `source.stats` at cooked time `now`, with chrony's checks
 * (sources.c load_source): the identifier, the same name, an unauthenticated dump not for
 * an authenticated source, stratum 0..15, leap 0..2, then the samples' own checks.
 */
export function loadDumpText(source: DumpedSource, text: string, now: Instant): LoadOutcome {
  const lines = text.split("\n");
  if (lines[0] !== DUMP_IDENTIFIER) return { ok: false };
  const name = (lines[1] ?? "").trim().split(/\s+/);
  if (name.length !== 1 || name[0] !== source.name) return { ok: false };
  const head = (lines[2] ?? "").trim().split(/\s+/);
  if (head.length !== 5 || !/^[0-7]+$/.test(head[1])) return { ok: false };
  const [auth, reachSize, stratum, leap] = [head[0], head[2], head[3], head[4]].map((w) =>
    /^-?\d+$/.test(w) ? Number(w) : NaN
  );
  const reach = Number.parseInt(head[1], 8);
  if ([auth, reachSize, stratum, leap].some((v) => !Number.isSafeInteger(v))) return { ok: false };
  if (auth === 0 && source.authenticated) return { ok: false };
  if (stratum < 0 || stratum >= 16 || leap < 0 || leap >= 3) return { ok: false };
  if (!source.stats.restore(lines.slice(3), now, stratum, leap as LeapStatus)) {
    return { ok: false };
  }
  return {
    ok: true,
    reachability: reach & ((1 << REACH_BITS) - 1),
    reachabilitySize: Math.min(REACH_BITS, Math.max(0, reachSize)),
  };
}

/**
 * Writes every source's dump file into `dir` (chronyc `dump`, and at exit); a source with
 * no sample gets no file, and an old file of it is removed, as chronyd does. Returns the
 * files that could not be written, with the reason (empty: all written).
 */
export function writeDumpFiles(dir: string, sources: readonly DumpedSource[]): string[] {
  const failed: string[] = [];
  for (const source of sources) {
    const path = join(dir, `${source.fileName}.dat`);
    const text = dumpText(source);
    if (text === null) {
      bestEffort(() => Deno.removeSync(path));
      continue;
    }
    try {
      Deno.writeTextFileSync(path, text, { mode: 0o644 });
    } catch (error) {
      failed.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed;
}

/**
 * Loads the dump files of `sources` from `dir` (chronyd -r), logging as chronyd does
 * ("Loaded dump file for X", or a warning "Could not load dump file for X"); a source
 * without a file is skipped silently. Returns how many files were loaded. The samples,
 * stratum, leap status and reachability register are restored.
 */
export function loadDumpFiles(
  dir: string,
  sources: readonly DumpedSource[],
  now: Instant,
  log: LogPort,
): number {
  let loaded = 0;
  for (const source of sources) {
    const text = readTextOrNull(join(dir, `${source.fileName}.dat`));
    if (text === null) continue;
    const r = loadDumpText(source, text, now);
    if (!r.ok) {
      log.log("warning", `Could not load dump file for ${source.fileName}`);
      continue;
    }
    source.restoreReachability?.(r.reachability, r.reachabilitySize);
    loaded++;
    log.log("info", `Loaded dump file for ${source.fileName}`);
  }
  return loaded;
}

/**
 * Removes the dump files in `dir` (chronyd does so at start, after any -r load): only
 * names that look like dump files, "ADDRESS.dat" or "refid:XXXXXXXX.dat".
 */
export function removeDumpFiles(dir: string): void {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith(".dat")) continue;
    const base = name.slice(0, -4);
    if (!base.startsWith("refid:") && ipFamily(base) === null) continue;
    bestEffort(() => Deno.removeSync(join(dir, name)));
  }
}
