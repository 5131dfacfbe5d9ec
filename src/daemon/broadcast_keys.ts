/**
 * The start-up check of the keys that broadcast and manycastclient lines name (the daemon
 * and `config check` both make it, through startup_checks.ts).
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { KeyStore } from "../ntp/auth.ts";

/**
 * Start-up check (also made by `config check`): every key a `broadcast` or `manycastclient`
 * line names is in the keyfile. One message per missing key.
 */
export function broadcastKeyErrors(config: Config, keys: KeyStore): string[] {
  const b = config.broadcast;
  if (b === undefined) return [];
  const errors: string[] = [];
  const where = config.keyFile === null ? "no keyfile is configured" : "not in the keyfile";
  for (const t of b.targets) {
    if (t.key !== null && !keys.has(t.key)) {
      errors.push(`broadcast ${t.address} uses key ${t.key}, but ${where}`);
    }
  }
  for (const m of b.manycastClients) {
    if (m.params.key !== null && !keys.has(m.params.key)) {
      errors.push(`manycastclient ${m.group} uses key ${m.params.key}, but ${where}`);
    }
  }
  return errors;
}
