/**
 * The SOCK refclock driver: a Unix datagram socket at the configured path receiving
 * chrony's `struct sock_sample` (gpsd writes them to /run/chrony.<device>.sock). Needs
 * --unstable-net. PPS pulses (`pulse` set) need a lock to another refclock, which tempus
 * does not implement yet: they are dropped and counted.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { RefclockDriverHandle, RefclockSink } from "./driver.ts";
import { decodeSockSample } from "./sock_sample.ts";

/** Opens the socket (replacing a stale file) and starts receiving. */
export function openSockRefclock(
  path: string,
  sink: RefclockSink,
  log: LogPort,
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
  let accepted = 0;
  let rejected = 0;
  let closed = false;
  (async () => {
    try {
      for (;;) {
        const [bytes] = await conn.receive();
        const s = decodeSockSample(bytes);
        if (s === null || s.pulse) {
          rejected++;
          if (rejected === 1) {
            log.log(
              "warning",
              `refclock SOCK ${path}: ${s ? "PPS pulse (not supported)" : "bad sample"} dropped`,
            );
          }
          continue;
        }
        accepted++;
        sink(s.time, s.offset, s.leap);
      }
    } catch (e) {
      if (!closed) log.log("error", `refclock SOCK ${path}: ${String(e)}`);
    }
  })();
  return {
    get accepted() {
      return accepted;
    },
    get rejected() {
      return rejected;
    },
    close() {
      if (closed) return;
      closed = true;
      conn.close();
      try {
        Deno.removeSync(path);
      } catch { /* already gone */ }
    },
  };
}
