/**
 * Configured sources at start and chronyc `reload sources`, as chronyd 4.3 does them
 * (conf.c CNF_AddSources, reload_source_dirs):
 *
 * - at start every `server`/`pool`/`peer` is added; one naming an address a source already
 *   has is not, and "Could not add source NAME" is logged;
 * - `reload sources` reads the `sourcedir` *.sources files again: a source whose line is
 *   gone (file deleted, line changed or removed) is removed, a new line adds a source, and
 *   an unchanged line keeps its source and its state. A file that does not parse leaves the
 *   sources as they were and the command fails.
 *
 * @module
 */
import type { SourceConfig } from "../config/model.ts";
import { type ConfReader, denoConfReader, readSourceDirs } from "../config/chrony_conf.ts";
import { formatDiagnostic } from "../config/diagnostics.ts";
import type { LogPort, TimerPort } from "../base/ports.ts";
import type { ControlResult } from "../core/control.ts";
import type { AddResult } from "./sources.ts";

/** The part of the SourceManager that adding and reloading need. */
export interface SourceSet {
  /** Adds a configured source (see SourceManager.add). */
  add(config: SourceConfig): AddResult;
  /** Removes what a configured source added. */
  removeConfig(config: SourceConfig): void;
}

/**
 * Adds the configured sources in order, logging "Could not add source NAME" (error) for
 * one whose address is already in use; resolves once every first resolution is done.
 */
export function addConfiguredSources(
  sources: SourceSet,
  configs: readonly SourceConfig[],
  log: LogPort,
): { added: SourceConfig[]; resolved: Promise<void> } {
  const added: SourceConfig[] = [];
  const pending: Promise<void>[] = [];
  for (const config of configs) {
    const r = sources.add(config);
    if (r.present) log.log("error", `Could not add source ${config.name}`);
    else {
      added.push(config);
      pending.push(r.resolved);
    }
  }
  return { added, resolved: Promise.all(pending).then(() => {}) };
}

/**
 * The `refresh` directive: `refresh()` (chronyc's refresh: names resolved again) every
 * `seconds` (chrony's default two weeks; 0 never).
 */
export function scheduleRefresh(timers: TimerPort, seconds: number, refresh: () => void): void {
  if (!(seconds > 0)) return;
  const tick = () => {
    refresh();
    timers.setTimer(seconds, tick);
  };
  timers.setTimer(seconds, tick);
}

/** What makes two source lines the same source: type, name, port and every option. */
export function sourceKey(config: SourceConfig): string {
  const params = Object.entries(config.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([config.type, config.name, params]);
}

/** True when `origin` ("FILE:LINE") names a *.sources file of one of `dirs`. */
export function fromSourceDir(origin: string, dirs: readonly string[]): boolean {
  const file = origin.replace(/:\d+$/, "");
  if (!file.endsWith(".sources")) return false;
  const dir = file.slice(0, file.lastIndexOf("/") + 1);
  return dirs.some((d) => (d.endsWith("/") ? d : `${d}/`) === dir);
}

/** The sourcedir sources in force, and `reload sources`. */
export class SourceDirReloader {
  readonly #dirs: readonly string[];
  readonly #sources: SourceSet;
  readonly #log: LogPort;
  readonly #reader: ConfReader;
  /** The sourcedir sources in force (the configs given to the SourceSet). */
  #current: SourceConfig[];

  /**
   * `dirs` are the configuration's sourcedir directories; `current` the sourcedir sources
   * added at start.
   */
  constructor(
    dirs: readonly string[],
    current: readonly SourceConfig[],
    sources: SourceSet,
    log: LogPort,
    reader: ConfReader = denoConfReader(),
  ) {
    this.#dirs = dirs;
    this.#current = [...current];
    this.#sources = sources;
    this.#log = log;
    this.#reader = reader;
  }

  /** chronyc `reload sources`. */
  reload(): ControlResult {
    const read = readSourceDirs([...this.#dirs], this.#reader);
    for (const w of read.warnings) this.#log.log("warning", formatDiagnostic(w));
    if (read.errors.length > 0) {
      for (const e of read.errors) this.#log.log("error", formatDiagnostic(e));
      return {
        ok: false,
        status: "failed",
        message: `sourcedir not reloaded: ${formatDiagnostic(read.errors[0])}`,
      };
    }
    const wanted = new Map<string, SourceConfig[]>();
    for (const config of read.sources) {
      const key = sourceKey(config);
      wanted.set(key, [...(wanted.get(key) ?? []), config]);
    }
    // Removals first, so that a changed line can take its address again.
    const kept: SourceConfig[] = [];
    for (const config of this.#current) {
      const same = wanted.get(sourceKey(config));
      if (same !== undefined && same.length > 0) {
        same.shift();
        kept.push(config);
      } else {
        this.#sources.removeConfig(config);
      }
    }
    const unmatched = new Set([...wanted.values()].flat());
    const fresh = read.sources.filter((c) => unmatched.has(c)); // in file order
    const { added } = addConfiguredSources(this.#sources, fresh, this.#log);
    this.#current = [...kept, ...added];
    return { ok: true };
  }
}
