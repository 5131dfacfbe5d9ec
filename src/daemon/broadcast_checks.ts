/**
 * The start-up checks of broadcast, multicast and manycast (the daemon and `config check`
 * both make them, through startup_checks.ts): the keys the lines name, the NTP port they
 * need, and bind addresses that broadcasts cannot reach.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { KeyStore } from "../ntp/keyfile.ts";

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

/**
 * Errors: broadcast, broadcastclient, multicastclient and manycastserver need the NTP
 * server socket, which `port 0` closes. Warnings: a socket bound to a unicast address
 * (bindaddress) receives no broadcast or multicast datagrams.
 */
export function broadcastPortProblems(config: Config): { errors: string[]; warnings: string[] } {
  const b = config.broadcast;
  const errors: string[] = [];
  const warnings: string[] = [];
  if (b === undefined) return { errors, warnings };
  const uses = [
    b.targets.length > 0 ? "broadcast" : "",
    b.client?.broadcast ? "broadcastclient" : "",
    (b.client?.groups.length ?? 0) > 0 ? "multicastclient" : "",
    b.manycastServers.length > 0 ? "manycastserver" : "",
  ].filter((u) => u !== "");
  if (uses.length > 0 && config.port === 0) {
    errors.push(`${uses.join(", ")} need${uses.length === 1 ? "s" : ""} the NTP port (port is 0)`);
  }
  const receiving = uses.filter((u) => u !== "broadcast");
  const bound = config.bindAddresses.filter((a) => a !== "0.0.0.0" && a !== "::");
  if (receiving.length > 0 && bound.length > 0) {
    warnings.push(
      `${receiving.join(", ")}: a socket bound to ${bound.join(", ")} receives no broadcast ` +
        "or multicast datagrams (bind to 0.0.0.0 or :: for them)",
    );
  }
  return { errors, warnings };
}
