/**
 * What a refclock driver is to the daemon: it reads a device and hands each sample to the
 * engine (`Engine.refclockSample`); bad device data is dropped (and counted), never thrown.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";

/**
 * Where a driver puts a sample: when it was taken (CLOCK_REALTIME, ns; `openRefclocks` puts it
 * on the clock driver's raw scale), true minus system time (s), leap.
 */
export type RefclockSink = (realtime: bigint, offset: number, leap: number) => void;

/** A running driver. */
export interface RefclockDriverHandle {
  /** Samples handed on. */
  readonly accepted: number;
  /** Reads dropped as bad data. */
  readonly rejected: number;
  /** Stops reading and releases the device. */
  close(): void;
}

/** The system clock and sleep of the drivers that wait on a device (RTC, NMEA). */
export interface DriverClock {
  /** System (raw) time now, ns. */
  now(): bigint;
  /** Sleeps `ms` (between reads or reopen attempts). */
  sleep(ms: number): Promise<void>;
}

/** A driver's counts of samples handed on and reads dropped. */
export type RefclockCounts = { accepted: number; rejected: number };

/**
 * Polls a device every 2^dpoll seconds: `open` gives it (throws: a start-up failure), `read`
 * reads it and `use` takes the reading (`fresh` for the first one after an open). A device
 * whose `read` throws is closed and reopened at each poll; whatever else throws in a poll
 * is logged and counted as rejected.
 */
export function pollRefclock<D extends { close(): void }, T>(
  name: string,
  log: LogPort,
  dpoll: number,
  open: () => D,
  read: (device: D) => T,
  use: (reading: T, counts: RefclockCounts, fresh: boolean) => void,
): RefclockDriverHandle {
  let device: D | null = open();
  let fresh = true;
  const counts = { accepted: 0, rejected: 0 };
  const poll = () => {
    if (device === null) {
      try {
        device = open();
        fresh = true;
        log.log("info", `${name}: device back`);
      } catch {
        return;
      }
    }
    let reading: T;
    try {
      reading = read(device);
    } catch (e) {
      log.log("warning", `${name}: device lost (${String(e)}); reopening at each poll`);
      device.close();
      device = null;
      return;
    }
    const first = fresh;
    fresh = false;
    use(reading, counts, first);
  };
  const timer = setInterval(() => {
    try {
      poll();
    } catch (e) {
      counts.rejected++;
      log.log("error", `${name}: ${String(e)}`);
    }
  }, Math.max(1, 1000 * 2 ** dpoll));
  return Object.assign(counts, {
    close() {
      clearInterval(timer);
      device?.close();
      device = null;
    },
  });
}
