/**
 * The error-bound page: a 4096-byte file (on tmpfs, e.g. /run/tempus/errorbound) that the
 * daemon rewrites in place under a sequence lock and any unprivileged process reads (or
 * mmaps) without talking to the daemon. Layout, little-endian:
 *
 * | offset | type | field                                                        |
 * | ------ | ---- | ------------------------------------------------------------ |
 * | 0      | 4 B  | magic "TPEB"                                                 |
 * | 4      | u32  | layout version (1)                                           |
 * | 8      | u64  | sequence: odd while the writer is inside, even when stable   |
 * | 16     | i64  | asOf: CLOCK_REALTIME, ns since the Unix epoch                |
 * | 24     | i64  | asOfMonotonic: CLOCK_MONOTONIC, ns                           |
 * | 32     | f64  | maxError at asOf, seconds (+Inf: unbounded)                  |
 * | 40     | f64  | growth of maxError per second of CLOCK_MONOTONIC             |
 * | 48     | u32  | status: 0 unsynchronised, 1 synchronised                     |
 * | 52     | u32  | leap: 0 none, 1 insert, 2 delete, 3 unsynchronised           |
 *
 * A reader copies the 56 bytes, reads the sequence again and retries unless both reads give
 * the same even number. To use it: read CLOCK_REALTIME and CLOCK_MONOTONIC, then
 * `maxError + (monotonic - asOfMonotonic) * growth + |(realtime - monotonic) - (asOf -
 * asOfMonotonic)|` bounds the error of the realtime reading (see core/error_bound.ts).
 *
 * @module
 */
import type { ErrorBoundSnapshot } from "../core/error_bound.ts";
import type { LeapStatus } from "../core/reports.ts";
import { bestEffort } from "../base/errors.ts";

/** Size of the file. */
export const ERROR_BOUND_PAGE_SIZE = 4096;
/** Bytes that carry data. */
export const ERROR_BOUND_RECORD_SIZE = 56;
const MAGIC = [0x54, 0x50, 0x45, 0x42]; // "TPEB"
const VERSION = 1;

/** Encodes the payload (offsets 16..56) of a snapshot. */
export function encodePayload(s: ErrorBoundSnapshot): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.asOf, true);
  v.setBigInt64(8, s.asOfMonotonic, true);
  v.setFloat64(16, s.maxError, true);
  v.setFloat64(24, s.growthRate, true);
  v.setUint32(32, s.status === "synchronised" ? 1 : 0, true);
  v.setUint32(36, s.leap, true);
  return b;
}

/** Why a page could not be read. */
export type PageError = "short" | "magic" | "version" | "busy";

/**
 * Decodes a whole record (56 bytes or more) given the sequence read again after it; never
 * throws.
 */
export function decodeRecord(
  bytes: Uint8Array,
  seqAfter: bigint,
): { ok: true; snapshot: ErrorBoundSnapshot; sequence: bigint } | { ok: false; error: PageError } {
  if (bytes.length < ERROR_BOUND_RECORD_SIZE) return { ok: false, error: "short" };
  if (MAGIC.some((m, i) => bytes[i] !== m)) return { ok: false, error: "magic" };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(4, true) !== VERSION) return { ok: false, error: "version" };
  const seq = v.getBigUint64(8, true);
  if (seq % 2n === 1n || seq !== seqAfter) return { ok: false, error: "busy" };
  const leap = v.getUint32(52, true);
  return {
    ok: true,
    sequence: seq,
    snapshot: {
      asOf: v.getBigInt64(16, true),
      asOfMonotonic: v.getBigInt64(24, true),
      maxError: v.getFloat64(32, true),
      growthRate: v.getFloat64(40, true),
      status: v.getUint32(48, true) === 1 ? "synchronised" : "unsynchronised",
      leap: (leap <= 3 ? leap : 3) as LeapStatus,
    },
  };
}

function writeAll(file: Deno.FsFile, offset: number, bytes: Uint8Array): void {
  file.seekSync(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

function u64(value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value, true);
  return b;
}

/** The daemon's side: owns the file and rewrites it under the sequence lock. */
export class ErrorBoundWriter {
  readonly #file: Deno.FsFile;
  #seq = 0n;
  /** The path written. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Creates (or takes over) the file at `path`, world-readable, with an unsynchronised page. */
  static open(path: string): ErrorBoundWriter {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    Deno.mkdirSync(dir, { recursive: true });
    const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
    bestEffort(() => Deno.chmodSync(path, 0o644)); // not ours to change: readers may still read it
    const page = new Uint8Array(ERROR_BOUND_PAGE_SIZE);
    page.set(MAGIC, 0);
    new DataView(page.buffer).setUint32(4, VERSION, true);
    page.set(u64(1n), 8); // odd until the first publish
    writeAll(file, 0, page);
    file.truncateSync(ERROR_BOUND_PAGE_SIZE);
    const w = new ErrorBoundWriter(path, file);
    w.#seq = 1n;
    return w;
  }

  /** Publishes a snapshot: sequence odd, payload, sequence even. */
  publish(snapshot: ErrorBoundSnapshot): void {
    const enter = this.#seq % 2n === 0n ? this.#seq + 1n : this.#seq;
    writeAll(this.#file, 8, u64(enter));
    writeAll(this.#file, 16, encodePayload(snapshot));
    this.#seq = enter + 1n;
    writeAll(this.#file, 8, u64(this.#seq));
  }

  /** Marks the page unsynchronised and closes the file (the file stays for readers). */
  close(): void {
    try {
      this.publish({
        asOf: 0n,
        asOfMonotonic: 0n,
        maxError: Infinity,
        growthRate: 0,
        status: "unsynchronised",
        leap: 3,
      });
    } catch { /* closing anyway */ }
    this.#file.close();
  }
}

/**
 * Reads a consistent snapshot from the page at `path` (retrying while the writer is inside);
 * throws only for I/O errors (missing file, permissions).
 */
export function readErrorBoundPage(
  path: string,
  attempts = 100,
): { ok: true; snapshot: ErrorBoundSnapshot } | { ok: false; error: PageError } {
  const file = Deno.openSync(path, { read: true });
  try {
    let last: PageError = "busy";
    for (let i = 0; i < attempts; i++) {
      const record = new Uint8Array(ERROR_BOUND_RECORD_SIZE);
      file.seekSync(0, Deno.SeekMode.Start);
      let n = 0;
      while (n < record.length) {
        const got = file.readSync(record.subarray(n));
        if (got === null || got === 0) break;
        n += got;
      }
      if (n < record.length) return { ok: false, error: "short" };
      const seq = new Uint8Array(8);
      file.seekSync(8, Deno.SeekMode.Start);
      file.readSync(seq);
      const r = decodeRecord(record, new DataView(seq.buffer).getBigUint64(0, true));
      if (r.ok) return { ok: true, snapshot: r.snapshot };
      last = r.error;
      if (last !== "busy") return { ok: false, error: last };
    }
    return { ok: false, error: last };
  } finally {
    file.close();
  }
}
