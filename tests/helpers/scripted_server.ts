/**
 * An NTP server on loopback whose clock runs by a script relative to the host clock
 * (tests/helpers/scripted_clock.ts): it serves `h + offsetAt(h − origin)` where `h` is the
 * host's CLOCK_REALTIME, so clients on the same host can be scored against a known truth.
 * The receive timestamp comes from the kernel (SO_TIMESTAMPNS) and the transmit timestamp
 * is read just before a synchronous sendto(), so the event loop's latency does not bias the
 * served time. Replies are 48-byte NTPv4 server packets: stratum 1, refid "SCRP", leap 0,
 * precision 2^-20, root delay 0, root dispersion about 15 µs.
 *
 * @module
 */
import { type KernelDatagram, KernelTimestampSocket } from "../../ffi/udp_socket.ts";
import type { ScriptedClock } from "./scripted_clock.ts";

const NTP_UNIX_OFFSET = 2_208_988_800n;

/** Unix ns to a 64-bit NTP timestamp (32.32 since 1900). */
function ntp64(ns: bigint): bigint {
  const sec = ns / 1_000_000_000n;
  const frac = ((ns % 1_000_000_000n) << 32n) / 1_000_000_000n;
  return ((sec + NTP_UNIX_OFFSET) << 32n) | frac;
}

/**
 * The 48-byte reply to an NTP client request with receive/transmit times `rx`, `tx` (Unix
 * ns of the served clock), or null when `request` is not a mode-3 NTPv1-4 packet.
 */
export function scriptedReply(request: Uint8Array, rx: bigint, tx: bigint): Uint8Array | null {
  if (request.byteLength < 48) return null;
  const req = new DataView(request.buffer, request.byteOffset, request.byteLength);
  const version = (req.getUint8(0) >> 3) & 7;
  if ((req.getUint8(0) & 7) !== 3 || version < 1 || version > 4) return null;
  const reply = new Uint8Array(48);
  const v = new DataView(reply.buffer);
  v.setUint8(0, (version << 3) | 4); // leap 0, mode 4
  v.setUint8(1, 1); // stratum
  v.setUint8(2, req.getUint8(2)); // poll
  v.setInt8(3, -20); // precision
  v.setUint32(8, 1); // root dispersion 1/65536 s
  v.setUint32(12, 0x5343_5250); // "SCRP"
  v.setBigUint64(16, ntp64(rx - 1_000_000_000n)); // reference time
  v.setBigUint64(24, req.getBigUint64(40)); // origin = the client's transmit
  v.setBigUint64(32, ntp64(rx));
  v.setBigUint64(40, ntp64(tx));
  return reply;
}

/** A running scripted server. */
export interface ScriptedServer {
  /** Its address (127.0.0.1). */
  address: string;
  /** Its UDP port. */
  port: number;
  /** The host CLOCK_REALTIME instant (Unix ns) at which the script's time 0 is. */
  originNs: bigint;
  /** Seconds of script time at host instant `hostNs` (Unix ns). */
  scriptTime(hostNs: bigint): number;
  /** The host CLOCK_REALTIME now, Unix ns. */
  hostNow(): bigint;
  /** Requests answered so far. */
  answered(): number;
  /** Stops the server. */
  close(): void;
}

/**
 * Starts a server on 127.0.0.1 (port chosen by the OS) serving `clock` with the script's
 * time 0 at `originNs` (default: now).
 */
export function startScriptedServer(clock: ScriptedClock, originNs?: bigint): ScriptedServer {
  const socket = KernelTimestampSocket.open("127.0.0.1", 0);
  const hostNow = () => socket.realtimeNow();
  const origin = originNs ?? hostNow();
  const scriptTime = (h: bigint) => Number(h - origin) / 1e9;
  const served = (h: bigint) => h + BigInt(Math.round(clock.offsetAt(scriptTime(h)) * 1e9));
  let answered = 0;
  let closed = false;
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
        const now = hostNow();
        const rxHost = got.kernelRxRaw !== null && now - got.kernelRxRaw < 1_000_000_000n
          ? got.kernelRxRaw
          : now;
        const reply = scriptedReply(got.data, served(rxHost), 0n);
        if (reply === null) continue;
        new DataView(reply.buffer).setBigUint64(40, ntp64(served(hostNow())));
        if (socket.replyToLast(reply)) answered++;
      }
    }
  })();
  return {
    address: "127.0.0.1",
    port: socket.local.port,
    originNs: origin,
    scriptTime,
    hostNow,
    answered: () => answered,
    close() {
      closed = true;
      socket.close();
    },
  };
}
