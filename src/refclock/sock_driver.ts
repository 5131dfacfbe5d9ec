/**
 * The SOCK refclock driver: a Unix datagram socket at the configured path receiving
 * chrony's `struct sock_sample` (gpsd writes them to /run/chrony.<device>.sock). Needs
 * --unstable-net. A sample with `pulse` set is a pulse, as in chrony's refclock_sock.c: its
 * offset field goes to the pulse sink as the pulse's `second`, and the core takes the
 * seconds from the `lock` refclock or the synchronised clock.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { RefclockDriverHandle, RefclockSink } from "./driver.ts";
import type { RefclockPulseSink } from "./pps_driver.ts";
import { decodeSockSample } from "./sock_sample.ts";
import { bestEffort } from "../base/errors.ts";

/** Opens the socket (replacing a stale file) and starts receiving. */
export function openSockRefclock(
  path: string,
  sink: RefclockSink,
  log: LogPort,
  pulse: RefclockPulseSink = () => {},
): RefclockDriverHandle {
  // A stale socket from an earlier run is replaced; anything else at the path is an error.
  let existing: Deno.FileInfo | null = null;
  try {
    existing = Deno.lstatSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (existing !== null) {
    if (existing.isSocket !== true) throw new Error(`${path} exists and is not a socket`);
    Deno.removeSync(path);
  }
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  const counts = { accepted: 0, rejected: 0 };
  let closed = false;
  (async () => {
    try {
      for (;;) {
        const [bytes] = await conn.receive();
        const s = decodeSockSample(bytes);
        if (s === null) {
          counts.rejected++;
          if (counts.rejected === 1) {
            log.log("warning", `refclock SOCK ${path}: bad sample dropped`);
          }
          continue;
        }
        counts.accepted++;
        if (s.pulse) pulse(s.time, s.offset);
        else sink(s.time, s.offset, s.leap);
      }
    } catch (e) {
      if (!closed) log.log("error", `refclock SOCK ${path}: ${String(e)}`);
    }
  })();
  return Object.assign(counts, {
    close() {
      if (closed) return;
      closed = true;
      conn.close();
      bestEffort(() => Deno.removeSync(path));
    },
  });
}
