/**
 * What a refclock driver is to the daemon: it reads a device and hands each sample to the
 * engine (`Engine.refclockSample`); bad device data is dropped (and counted), never thrown.
 *
 * @module
 */

/** Where a driver puts a sample: system (raw) time, true minus system time (s), leap. */
export type RefclockSink = (rawTime: bigint, offset: number, leap: number) => void;

/** A running driver. */
export interface RefclockDriverHandle {
  /** Samples handed on. */
  readonly accepted: number;
  /** Reads dropped as bad data. */
  readonly rejected: number;
  /** Stops reading and releases the device. */
  close(): void;
}
