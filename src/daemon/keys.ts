/**
 * Loading the keyfile at start-up and checking that every `key N` of a configured source
 * names a usable key, so that a configured key is never silently ignored.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import { KeyStore, MIN_SECURE_KEY_LENGTH, parseKeyFile } from "../ntp/keyfile.ts";

/** The keys, and what to tell the operator about them. */
export interface LoadedKeys {
  /** Usable keys (empty without keyfile). */
  keys: KeyStore;
  /** Lines skipped, weak keys, an unreadable keyfile nobody needs ("file:line: ..."). */
  warnings: string[];
  /** Start-up errors: a source names a key that is not available. */
  errors: string[];
}

/** Describes a source for messages: its origin ("file:line") when known, else its name. */
function sourceLabel(source: Config["sources"][number]): string {
  const where = source.origin === "" ? "" : `${source.origin}: `;
  return `${where}${source.type} ${source.name}`;
}

/**
 * Reads and parses `config.keyFile` (with `readText`, by default Deno.readTextFileSync) and
 * checks the keys that the configured sources name. Never throws.
 */
export function loadKeyFile(
  config: Pick<Config, "keyFile" | "sources">,
  readText: (path: string) => string = Deno.readTextFileSync,
): LoadedKeys {
  const warnings: string[] = [];
  const errors: string[] = [];
  const keyed = config.sources.filter((s) => s.params.key !== null);
  const path = config.keyFile;
  if (path === null) {
    for (const s of keyed) {
      errors.push(`${sourceLabel(s)} uses key ${s.params.key} but no keyfile is configured`);
    }
    return { keys: new KeyStore(), warnings, errors };
  }
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const message = `Could not read keyfile ${path}: ${why}`;
    if (keyed.length > 0) errors.push(message);
    else warnings.push(message);
    return { keys: new KeyStore(), warnings, errors };
  }
  const parsed = parseKeyFile(text);
  for (const e of parsed.errors) warnings.push(`${path}:${e.line}: ${e.message}`);
  for (const s of keyed) {
    const id = s.params.key as number;
    const key = parsed.keys.get(id);
    if (key === null) {
      const bad = parsed.errors.find((e) => e.keyId === id);
      errors.push(
        `${sourceLabel(s)} uses key ${id}, which keyfile ${path} does not define` +
          (bad === undefined ? "" : ` (${path}:${bad.line}: ${bad.message})`),
      );
    } else if (key.value.length < MIN_SECURE_KEY_LENGTH) {
      warnings.push(`${path}:${key.line}: key ${id} is too short (under 80 bits)`);
    }
  }
  return { keys: parsed.keys, warnings, errors };
}
