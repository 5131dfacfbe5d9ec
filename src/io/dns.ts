/**
 * Name resolution for NTP servers: IP literals short-circuit; names are resolved with
 * `Deno.resolveDns` for A and AAAA (in parallel), with a timeout and a one-line error. Names
 * DNS does not know (e.g. "localhost" from /etc/hosts) fall back to the system resolver
 * (getaddrinfo through node:dns).
 *
 * @module
 */
import { lookup as systemLookup } from "node:dns/promises";
import { ipFamily } from "../base/ip.ts";

/** Which address families to return. */
export type FamilyPreference = "any" | "ipv4" | "ipv6";

/** The outcome of resolving a name. */
export type ResolveResult =
  | { ok: true; addresses: string[] }
  | { ok: false; error: string };

/** Options of `resolveHost`. */
export interface ResolveOptions {
  /** Address families to ask for (default "any": A then AAAA results). */
  family?: FamilyPreference;
  /** Give up after this many milliseconds (default 5000). */
  timeoutMs?: number;
}

/** Strips brackets from "[::1]" and returns the bare host. */
export function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Resolves one record type; returns [] on NXDOMAIN/NODATA, or the error. */
async function lookup(
  name: string,
  type: "A" | "AAAA",
  signal: AbortSignal,
): Promise<string[] | Error> {
  try {
    return await Deno.resolveDns(name, type, { signal });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** getaddrinfo results (hosts file, nss), IPv4 first; [] on any failure. */
async function systemAddresses(name: string, family: FamilyPreference): Promise<string[]> {
  try {
    const found = await systemLookup(name, {
      all: true,
      family: family === "ipv4" ? 4 : family === "ipv6" ? 6 : 0,
    });
    const list = found.map((entry) => entry.address);
    return [
      ...new Set([...list.filter((a) => !a.includes(":")), ...list.filter((a) => a.includes(":"))]),
    ];
  } catch {
    return [];
  }
}

/**
 * Resolves `host` to IP literals. IP literals (IPv6 optionally in brackets) are returned as
 * they are without any lookup. IPv4 addresses come first. Never throws.
 */
export async function resolveHost(
  host: string,
  options: ResolveOptions = {},
): Promise<ResolveResult> {
  const bare = stripBrackets(host.trim());
  const family = options.family ?? "any";
  const literal = ipFamily(bare);
  if (literal !== null) {
    if ((family === "ipv4" && literal === 6) || (family === "ipv6" && literal === 4)) {
      return { ok: false, error: `${bare} is not an IPv${family === "ipv4" ? 4 : 6} address` };
    }
    return { ok: true, addresses: [bare] };
  }
  if (bare === "" || !/^[A-Za-z0-9._-]+$/.test(bare) || bare.length > 253) {
    return { ok: false, error: `'${host}' is not a valid host name or IP address` };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 5000);
  try {
    const [v4, v6] = await Promise.all([
      family === "ipv6" ? Promise.resolve([]) : lookup(bare, "A", controller.signal),
      family === "ipv4" ? Promise.resolve([]) : lookup(bare, "AAAA", controller.signal),
    ]);
    const addresses = [
      ...(v4 instanceof Error ? [] : v4),
      ...(v6 instanceof Error ? [] : v6),
    ];
    if (addresses.length > 0) return { ok: true, addresses };
    const system = await systemAddresses(bare, family);
    if (system.length > 0) return { ok: true, addresses: system };
    if (controller.signal.aborted) {
      return { ok: false, error: `cannot resolve ${bare}: timed out` };
    }
    const failure = v4 instanceof Error ? v4 : v6 instanceof Error ? v6 : null;
    if (failure !== null) {
      return { ok: false, error: `cannot resolve ${bare}: ${failure.message.split("\n")[0]}` };
    }
    return { ok: false, error: `cannot resolve ${bare}: no such host` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Splits "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 literal into host and
 * port (default `defaultPort`). Returns null when the port is not a number in 1-65535.
 */
export function splitHostPort(
  text: string,
  defaultPort: number,
): { host: string; port: number } | null {
  const trimmed = text.trim();
  let host = trimmed;
  let portText: string | null = null;
  if (trimmed.startsWith("[")) {
    const close = trimmed.indexOf("]");
    if (close < 0) return null;
    host = trimmed.slice(1, close);
    const rest = trimmed.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      portText = rest.slice(1);
    }
  } else {
    const colons = trimmed.split(":").length - 1;
    if (colons === 1) {
      const at = trimmed.indexOf(":");
      host = trimmed.slice(0, at);
      portText = trimmed.slice(at + 1);
    }
  }
  if (host === "") return null;
  if (portText === null) return { host, port: defaultPort };
  if (!/^[0-9]{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  return { host, port };
}

/** The inverse of `splitHostPort`: "HOST:PORT", with an IPv6 address in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
