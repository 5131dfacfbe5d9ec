/**
 * Name lookups for the monitoring client, as chronyc does through the system resolver:
 * host names to addresses for `-h` and command arguments, and addresses back to names for
 * the tables (unless `-n`). /etc/hosts is consulted first (Deno's resolver does not read
 * it), then DNS with a short timeout. Lookups never throw.
 *
 * @module
 */
import { type IpAddr, parseIpAddr } from "../cmdmon/ip_addr.ts";

let hostsCache: Array<[string, string[]]> | null = null;

function hostsEntries(): Array<[string, string[]]> {
  if (hostsCache !== null) return hostsCache;
  const entries: Array<[string, string[]]> = [];
  try {
    const text = Deno.readTextFileSync("/etc/hosts");
    for (const line of text.split("\n")) {
      const words = line.replace(/#.*/, "").trim().split(/\s+/).filter((w) => w !== "");
      if (words.length >= 2) entries.push([words[0], words.slice(1)]);
    }
  } catch {
    // no hosts file
  }
  hostsCache = entries;
  return entries;
}

function sameAddress(a: string, b: string): boolean {
  const x = parseIpAddr(a);
  const y = parseIpAddr(b);
  if (x === null || y === null || x.family !== y.family) return false;
  return x.bytes.every((v, i) => v === y.bytes[i]);
}

/** Resolves a host name or IP literal to addresses (IPv4 first). Empty when unknown. */
export async function resolveHost(name: string, timeoutMs = 2000): Promise<string[]> {
  if (parseIpAddr(name) !== null) return [name];
  const fromHosts = hostsEntries().filter(([, names]) => names.includes(name)).map(([a]) => a);
  if (name === "localhost") return [...new Set([...fromHosts, "127.0.0.1", "::1"])];
  if (fromHosts.length > 0) return fromHosts;
  const out: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      out.push(...await Deno.resolveDns(name, type, { signal }));
    } catch {
      // not found or no resolver
    }
  }
  return out;
}

function reverseName(address: string): string | null {
  const ip = parseIpAddr(address);
  if (ip === null) return null;
  if (ip.family === 1) {
    return `${ip.bytes[3]}.${ip.bytes[2]}.${ip.bytes[1]}.${ip.bytes[0]}.in-addr.arpa`;
  }
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    nibbles.push((ip.bytes[i] & 0xf).toString(16), (ip.bytes[i] >> 4).toString(16));
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}

const reverseCache = new Map<string, string>();

/** The name of an address (hosts file, then PTR), or the address itself. */
export async function addressToName(address: string, timeoutMs = 1000): Promise<string> {
  const cached = reverseCache.get(address);
  if (cached !== undefined) return cached;
  let name = address;
  const hit = hostsEntries().find(([a]) => sameAddress(a, address));
  if (hit) {
    name = hit[1][0];
  } else {
    const ptr = reverseName(address);
    if (ptr !== null) {
      try {
        const signal = AbortSignal.timeout(timeoutMs);
        const names = await Deno.resolveDns(ptr, "PTR", { signal });
        if (names.length > 0) name = names[0].replace(/\.$/, "");
      } catch {
        // keep the address
      }
    }
  }
  reverseCache.set(address, name);
  return name;
}

/** Parses an address argument: IP literal or resolvable name. */
export async function parseAddress(text: string): Promise<IpAddr | null> {
  const direct = parseIpAddr(text);
  if (direct !== null) return direct;
  const resolved = await resolveHost(text);
  return resolved.length > 0 ? parseIpAddr(resolved[0]) : null;
}
