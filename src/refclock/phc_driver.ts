/**
 * The PHC refclock driver (chrony's refclock_phc.c without its external-timestamp modes):
 * every 2^dpoll seconds, ten readings of the PTP hardware clock against the system clock,
 * the one with the shortest bracket taken as the sample (PHC minus system time at the
 * bracket's middle). The PHC keeps whatever time scale it was set to - PTP's is TAI, which
 * the `tai` option or an `offset` takes back to UTC. A device that fails is closed and
 * reopened at each poll.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import { bestPhcSample, type PhcDevice, phcIndexOfInterface } from "../../ffi/phc.ts";
import { pollRefclock, type RefclockDriverHandle, type RefclockSink } from "./driver.ts";

/** Readings per sample (chrony: 10). */
export const PHC_READINGS = 10;

/**
 * The device path of a PHC parameter: a path as it is, an interface name through
 * ETHTOOL_GET_TS_INFO (`lookup`) as /dev/ptpN. Throws when the interface has no PHC.
 */
export function phcDevicePath(
  device: string,
  lookup: (iface: string) => number | null = phcIndexOfInterface,
): string {
  if (device.startsWith("/")) return device;
  const index = lookup(device);
  if (index === null) throw new Error(`interface ${device} has no PTP hardware clock`);
  return `/dev/ptp${index}`;
}

/** Opens the device through `open` (throws: a start-up failure) and polls it. */
export function openPhcRefclock(
  open: () => PhcDevice,
  dpoll: number,
  sink: RefclockSink,
  log: LogPort,
  name: string,
): RefclockDriverHandle {
  const read = (device: PhcDevice) => bestPhcSample(device.read(PHC_READINGS));
  return pollRefclock(name, log, dpoll, open, read, (sample, counts) => {
    if (sample === null) {
      counts.rejected++;
      return;
    }
    counts.accepted++;
    sink(sample.sys, sample.offset, 0);
  });
}
