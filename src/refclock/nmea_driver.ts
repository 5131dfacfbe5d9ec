/**
 * The NMEA refclock driver: a GPS receiver on a serial port, no gpsd. Each RMC (with a fix)
 * or ZDA sentence gives one sample: the UTC time it carries against the system time its
 * last byte arrived - so the sample's offset is minus the receiver's sentence delay, which
 * the `offset` option takes back out (`offset 0.35` for a sentence ending 350 ms after its
 * second). Only the first time sentence of each second counts. A port that hangs up or
 * fails is closed and reopened every second until the device is back.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { SerialPort, SerialWait } from "../../ffi/serial.ts";
import type { DriverClock, RefclockDriverHandle, RefclockSink } from "./driver.ts";
import { FirstOfSecond, NmeaLineAssembler, parseNmeaSentence } from "./nmea.ts";

/** What the driver needs of a serial port (ffi/serial.ts SerialPort; tests fake it). */
export type NmeaPort = Pick<SerialPort, "wait" | "read" | "close">;

/** The edges of the driver. */
export interface NmeaDriverDeps extends DriverClock {
  /** Opens the device; throws when it cannot. */
  open(device: string, baud: number): NmeaPort;
}

/** Milliseconds one wait on the port lasts at most (how fast `close` takes effect). */
const WAIT_MS = 250;

/** Opens `device` (throws when it cannot: a start-up failure) and starts reading. */
export function openNmeaRefclock(
  device: string,
  baud: number,
  sink: RefclockSink,
  log: LogPort,
  deps: NmeaDriverDeps,
): RefclockDriverHandle & { readonly done: Promise<void> } {
  let port: NmeaPort | null = deps.open(device, baud);
  const counts = { accepted: 0, rejected: 0 };
  let closed = false;
  const name = `refclock NMEA ${device}`;
  const buf = new Uint8Array(512);

  const handle = (
    bytes: Uint8Array,
    received: bigint,
    lines: NmeaLineAssembler,
    first: FirstOfSecond,
  ) => {
    for (const l of lines.push(bytes, received)) {
      const r = parseNmeaSentence(l.line);
      if (!r.ok) {
        if (r.reason !== "other sentence") counts.rejected++;
        continue;
      }
      if (!first.take(r.time.utc)) continue;
      counts.accepted++;
      sink(l.received, Number(r.time.utc - l.received) / 1e9, 0);
    }
  };

  const reopen = async (): Promise<NmeaPort | null> => {
    while (!closed) {
      await deps.sleep(1000);
      if (closed) return null;
      try {
        const p = deps.open(device, baud);
        log.log("info", `${name}: device back`);
        return p;
      } catch { /* still gone */ }
    }
    return null;
  };

  const done = (async () => {
    let lines = new NmeaLineAssembler();
    let first = new FirstOfSecond();
    while (!closed && port !== null) {
      let w: SerialWait;
      let lost: string | null = null;
      try {
        w = await port.wait(WAIT_MS);
        if (closed) break;
        if (w === "readable") {
          const received = deps.now();
          for (;;) {
            const n = port.read(buf);
            if (n === null) {
              lost = "end of file";
              break;
            }
            if (n === 0) break;
            handle(buf.subarray(0, n), received, lines, first);
          }
        } else if (w === "hangup") lost = "hang-up";
      } catch (e) {
        lost = String(e);
      }
      if (lost !== null) {
        log.log("warning", `${name}: device lost (${lost}); reopening every second`);
        port.close();
        port = await reopen();
        lines = new NmeaLineAssembler();
        first = new FirstOfSecond();
      }
    }
    port?.close();
    port = null;
  })();

  return Object.assign(counts, {
    done,
    close() {
      closed = true;
    },
  });
}
