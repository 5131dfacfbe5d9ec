/**
 * The client's NTS state as kept in `ntsdumpdir` across restarts (chrony keeps cookies there
 * too, so a restart needs no NTS-KE): the keys, the unused cookies and the negotiated NTP
 * server, as a small JSON document. Decoding never throws: anything malformed is refused
 * with a reason and the client runs NTS-KE again.
 *
 * @module
 */
import type { NtsKeResult } from "./ke_client.ts";

/** Upper bound of a dump file accepted, octets (8 cookies of a few hundred octets, hex). */
export const MAX_DUMP_LENGTH = 64 * 1024;
/** Longest cookie accepted from a dump, octets. */
const MAX_COOKIE_LENGTH = 1024;
const FORMAT = "tempus-nts-cookies/1";

/**
 * The state of one NTS association: the keys, the unused cookies and the negotiated NTP
 * server of an NTS-KE exchange, with where and when the keys were established.
 */
export interface NtsDump extends Omit<NtsKeResult, "warnings"> {
  /** The NTS-KE server (name or address) and port the keys came from. */
  keServer: string;
  /** NTS-KE port. */
  kePort: number;
  /** When the keys were established, Unix seconds (for ntsrefresh). */
  established: number;
}

/** Bytes as lower-case hex. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text: unknown, max: number): Uint8Array | null {
  if (typeof text !== "string" || text.length % 2 !== 0 || text.length > 2 * max) return null;
  if (!/^[0-9a-f]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Encodes a dump as JSON text. */
export function encodeNtsDump(dump: NtsDump): string {
  return JSON.stringify({
    format: FORMAT,
    keServer: dump.keServer,
    kePort: dump.kePort,
    aeadId: dump.aeadId,
    c2sKey: hex(dump.c2sKey),
    s2cKey: hex(dump.s2cKey),
    cookies: dump.cookies.map(hex),
    ntpServer: dump.ntpServer,
    ntpPort: dump.ntpPort,
    established: dump.established,
  }) + "\n";
}

/** Result of decoding a dump. */
export type NtsDumpResult = { ok: true; dump: NtsDump } | { ok: false; error: string };

function port(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** Decodes a dump file's text. Never throws. */
export function decodeNtsDump(text: string): NtsDumpResult {
  if (text.length > MAX_DUMP_LENGTH) return { ok: false, error: "dump file too long" };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, error: "dump file is not JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return { ok: false, error: "dump file is not an object" };
  }
  const o = v as Record<string, unknown>;
  if (o.format !== FORMAT) return { ok: false, error: "unknown dump format" };
  const c2sKey = unhex(o.c2sKey, 64);
  const s2cKey = unhex(o.s2cKey, 64);
  if (
    c2sKey === null || s2cKey === null || c2sKey.length === 0 || s2cKey.length !== c2sKey.length
  ) {
    return { ok: false, error: "bad keys" };
  }
  if (!Array.isArray(o.cookies) || o.cookies.length > 64) {
    return { ok: false, error: "bad cookies" };
  }
  const cookies: Uint8Array[] = [];
  for (const c of o.cookies) {
    const bytes = unhex(c, MAX_COOKIE_LENGTH);
    if (bytes === null || bytes.length === 0 || bytes.length % 4 !== 0) {
      return { ok: false, error: "bad cookie" };
    }
    cookies.push(bytes);
  }
  if (
    typeof o.keServer !== "string" || o.keServer.length === 0 || o.keServer.length > 255 ||
    typeof o.ntpServer !== "string" || o.ntpServer.length === 0 || o.ntpServer.length > 255 ||
    !port(o.kePort) || !port(o.ntpPort) ||
    typeof o.aeadId !== "number" || !Number.isInteger(o.aeadId) ||
    typeof o.established !== "number" || !Number.isFinite(o.established)
  ) {
    return { ok: false, error: "bad server fields" };
  }
  return {
    ok: true,
    dump: {
      keServer: o.keServer,
      kePort: o.kePort,
      aeadId: o.aeadId,
      c2sKey,
      s2cKey,
      cookies,
      ntpServer: o.ntpServer,
      ntpPort: o.ntpPort,
      established: o.established,
    },
  };
}

/** The dump file name of an association: chrony's `<address>.nts` idea, per KE server and NTP address. */
export function dumpFileName(keServer: string, ntpAddress: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.\-]/g, "_");
  return `${safe(keServer)}@${safe(ntpAddress)}.nts`;
}
