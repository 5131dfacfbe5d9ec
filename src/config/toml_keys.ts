/**
 * Where keys are written in a TOML text: key paths, their dotted rendering, and an index from
 * each key path to its line, so TOML diagnostics can name a line as chrony.conf's do.
 *
 * @module
 */

/** A TOML key path: table and key names, and array-of-tables indexes. */
export type KeyPath = (string | number)[];

/** Renders a key path as TOML dotted text: source[1].minpoll, clock.makestep.limit. */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out;
}

function stripKey(k: string): string {
  const t = k.trim();
  return (t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))
    ? t.slice(1, -1)
    : t;
}

/** Key paths (JSON-encoded) to the line (1-based) where each is first written. */
export type KeyIndex = Map<string, number>;

/** Indexes where every table header, key and inline-table member of `text` is written. */
export function indexKeys(text: string): KeyIndex {
  const index: KeyIndex = new Map();
  const add = (p: KeyPath, line: number) => {
    const k = JSON.stringify(p);
    if (!index.has(k)) index.set(k, line);
  };
  const lines = text.split("\n");
  let table: KeyPath = [];
  const arrayCounts = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === "" || l.startsWith("#")) continue;
    let m = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(l);
    if (m !== null) {
      const name = m[1].split(".").map(stripKey);
      const key = name.join(".");
      const idx = arrayCounts.get(key) ?? 0;
      arrayCounts.set(key, idx + 1);
      table = [...name, idx];
      add(table, i + 1);
      continue;
    }
    m = /^\[\s*([^\]]+?)\s*\]/.exec(l);
    if (m !== null) {
      table = m[1].split(".").map(stripKey);
      add(table, i + 1);
      continue;
    }
    m = /^([A-Za-z0-9_\-."' ]+?)\s*=/.exec(l);
    if (m !== null) {
      const keyPath = [...table, ...m[1].split(".").map(stripKey)];
      add(keyPath, i + 1);
      // inline table members on the same line: key = { a = 1, b = 2 }
      const inline = /\{(.*)\}/.exec(l);
      if (inline !== null) {
        for (const part of inline[1].split(",")) {
          const km = /^\s*([A-Za-z0-9_\-]+)\s*=/.exec(part);
          if (km !== null) add([...keyPath, km[1]], i + 1);
        }
      }
    }
  }
  return index;
}

/** The line of `path` in an index: the key itself or its nearest enclosing key or table. */
export function lineOf(index: KeyIndex, path: KeyPath): number | null {
  for (let n = path.length; n > 0; n--) {
    const line = index.get(JSON.stringify(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return null;
}

/**
 * Finds the line (1-based) where `path` is written in TOML `text`: the key itself, or the
 * nearest enclosing key or table header. Best effort (null when not found).
 */
export function locateKey(text: string, path: KeyPath): number | null {
  return lineOf(indexKeys(text), path);
}
