/**
 * An in-memory ConfReader for config tests: files by absolute path; directories are
 * derived from the file paths.
 *
 * @module
 */
import type { ConfReader } from "../../src/config/chrony_conf.ts";

/** Builds a reader over `files` (path → text). */
export function memReader(files: Record<string, string>): ConfReader {
  return {
    readFile(path) {
      return Object.hasOwn(files, path)
        ? { ok: true, text: files[path] }
        : { ok: false, error: "no such file" };
    },
    listDir(path) {
      const dir = path.endsWith("/") ? path : path + "/";
      const names = new Set<string>();
      for (const p of Object.keys(files)) {
        if (p.startsWith(dir)) names.add(p.slice(dir.length).split("/")[0]);
      }
      return names.size === 0 ? null : [...names];
    },
  };
}
