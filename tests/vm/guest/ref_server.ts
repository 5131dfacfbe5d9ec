/**
 * The guest's reference NTP server: it serves TRUE time that does not depend on the guest's
 * CLOCK_REALTIME. True time = an epoch handed in by the host on the kernel command line
 * (`tempus.epoch=<Unix ns>`, taken just before qemu starts) + CLOCK_MONOTONIC_RAW, whose
 * zero is the guest kernel's start. Stepping or slewing CLOCK_REALTIME changes nothing
 * here. Replies are 48-byte NTPv4 server packets (stratum 1, refid "TMPS") encoded here.
 *
 * Run alone: `deno run -A --unstable-net ref_server.ts [--port N] [--epoch NS]`.
 *
 * @module
 */
import { type KernelDatagram, KernelTimestampSocket } from "../../../ffi/udp_socket.ts";
import { monotonicRaw, realtime } from "./util.ts";

const NTP_UNIX_OFFSET = 2_208_988_800n;

/** The epoch from /proc/cmdline (`tempus.epoch=`), or null when absent. */
export function epochFromCmdline(cmdline: string): bigint | null {
  const m = /(?:^|\s)tempus\.epoch=(\d+)/.exec(cmdline);
  return m ? BigInt(m[1]) : null;
}

/** A clock giving true time (ns since the Unix epoch) from an epoch plus MONOTONIC_RAW. */
export function referenceClock(epochNs: bigint, rawAtEpoch = 0n): () => bigint {
  return () => epochNs + (monotonicRaw() - rawAtEpoch);
}

/** Unix ns to a 64-bit NTP timestamp (32.32 since 1900). */
export function toNtp64(ns: bigint): bigint {
  const sec = ns / 1_000_000_000n;
  const frac = ((ns % 1_000_000_000n) << 32n) / 1_000_000_000n;
  return ((sec + NTP_UNIX_OFFSET) << 32n) | frac;
}

/**
 * A leap second the reference inserts at `atNs` (a UTC midnight, Unix ns): until then it
 * announces LI=1; during the inserted second its clock repeats 23:59:59 (as Linux does).
 */
export interface LeapPlan {
  /** The midnight at which the leap second is inserted, Unix ns. */
  atNs: bigint;
}

/**
 * The reference's UTC reading for a continuous count `t` (ns, no leap seconds removed):
 * after an inserted leap second every reading is one second less.
 */
export function utcWithLeap(t: bigint, leap: LeapPlan | null): bigint {
  return leap !== null && t >= leap.atNs ? t - 1_000_000_000n : t;
}

/** Builds the 48-byte reply to `request` with receive/transmit times `rx`, `tx` (Unix ns). */
export function buildReply(
  request: Uint8Array,
  rx: bigint,
  tx: bigint,
  leapIndicator = 0,
): Uint8Array | null {
  if (request.byteLength < 48) return null;
  const req = new DataView(request.buffer, request.byteOffset, request.byteLength);
  const version = (req.getUint8(0) >> 3) & 7;
  const mode = req.getUint8(0) & 7;
  if (mode !== 3 || version < 1 || version > 4) return null;
  const reply = new Uint8Array(48);
  const v = new DataView(reply.buffer);
  v.setUint8(0, (leapIndicator << 6) | (version << 3) | 4);
  v.setUint8(1, 1); // stratum
  v.setUint8(2, req.getUint8(2)); // poll
  v.setInt8(3, -20); // precision ~1 µs
  v.setUint32(4, 0); // root delay
  v.setUint32(8, 0x0000_0010); // root dispersion ~0.24 ms
  v.setUint32(12, 0x544d_5053); // "TMPS"
  v.setBigUint64(16, toNtp64(rx - 1_000_000_000n)); // reference time
  v.setBigUint64(24, req.getBigUint64(40)); // origin = client's transmit
  v.setBigUint64(32, toNtp64(rx));
  v.setBigUint64(40, toNtp64(tx));
  return reply;
}

/** A running reference server. */
export interface RefServer {
  /** The UDP port it listens on (127.0.0.1). */
  port: number;
  /** True time now, ns. */
  now(): bigint;
  /** Requests answered so far. */
  answered(): number;
  /** Stops the server. */
  close(): void;
}

/**
 * Starts the server on 127.0.0.1:`port` (0 = any free port). The receive timestamp comes
 * from the kernel (SO_TIMESTAMPNS, a CLOCK_REALTIME stamp turned into an age and taken off
 * the reference time now), and the transmit timestamp is taken just before a synchronous
 * sendto(), so the JavaScript event loop's latency does not bias the reference.
 */
export function startRefServer(
  epochNs: bigint,
  port = 0,
  leap: LeapPlan | null = null,
): RefServer {
  const count = referenceClock(epochNs);
  const now = () => utcWithLeap(count(), leap);
  const socket = KernelTimestampSocket.open("127.0.0.1", port);
  let answered = 0;
  let closed = false;
  // Warm the reply path up so the first request does not pay for compiling it.
  const probe = new Uint8Array(48);
  probe[0] = (4 << 3) | 3;
  for (let i = 0; i < 3; i++) buildReply(probe, now(), realtime(), 0);
  (async () => {
    receiving: while (!closed && await socket.waitReadable()) {
      for (;;) {
        let got: KernelDatagram | null;
        try {
          got = socket.receive();
        } catch {
          break receiving;
        }
        if (got === null) break;
        // The reference reading is bracketed by two REALTIME readings, so a pause between
        // them (GC, lazy compilation: milliseconds under TCG) cannot skew the packet's age.
        const r1 = realtime();
        const refNow = now();
        const r2 = realtime();
        const age = got.kernelRxRaw === null ? 0n : r1 + (r2 - r1) / 2n - got.kernelRxRaw;
        const rx = age > 0n && age < 1_000_000_000n ? refNow - age : refNow;
        const li = leap !== null && count() < leap.atNs ? 1 : 0;
        const reply = buildReply(got.data, rx, now(), li);
        if (reply) {
          new DataView(reply.buffer).setBigUint64(40, toNtp64(now()));
          // A refused send means the client went away.
          if (socket.replyToLast(reply)) answered++;
        }
      }
    }
  })();
  return {
    port: socket.local.port,
    now,
    answered: () => answered,
    close() {
      closed = true;
      socket.close();
    },
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const portArg = args.indexOf("--port");
  const epochArg = args.indexOf("--epoch");
  const epoch = epochArg >= 0
    ? BigInt(args[epochArg + 1])
    : epochFromCmdline(Deno.readTextFileSync("/proc/cmdline")) ??
      BigInt(Date.now()) * 1_000_000n - monotonicRaw();
  const server = startRefServer(epoch, portArg >= 0 ? Number(args[portArg + 1]) : 0);
  console.log(`ref_server listening on 127.0.0.1:${server.port}`);
}
