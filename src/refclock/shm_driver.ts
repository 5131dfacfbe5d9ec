/**
 * The SHM refclock driver: ntpd's shared memory segment (key 0x4e545030 + unit), read every
 * 2^dpoll seconds as chrony does - a copy, the mode-1 count check, then `valid` cleared.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import { ShmSegment } from "../../ffi/shm.ts";
import type { RefclockDriverHandle, RefclockSink } from "./driver.ts";
import {
  checkShmSample,
  decodeShmTime,
  SHM_COUNT_OFFSET,
  SHM_KEY_BASE,
  SHM_TIME_SIZE,
  SHM_VALID_OFFSET,
} from "./shm_time.ts";

/**
 * Attaches unit `unit` (created with mode `perm` if it does not exist yet) and polls it
 * every `2^dpoll` seconds.
 */
export function openShmRefclock(
  unit: number,
  perm: number,
  dpoll: number,
  sink: RefclockSink,
  log: LogPort,
): RefclockDriverHandle {
  const seg = ShmSegment.attach(SHM_KEY_BASE + unit, SHM_TIME_SIZE, perm);
  const counts = { accepted: 0, rejected: 0 };
  const poll = () => {
    const copy = decodeShmTime(seg.read());
    const r = checkShmSample(copy, seg.int32(SHM_COUNT_OFFSET));
    if (!r.ok) {
      if (r.reason !== "not valid") counts.rejected++;
      return;
    }
    seg.setInt32(SHM_VALID_OFFSET, 0);
    counts.accepted++;
    sink(r.receiveTime, r.offset, r.leap);
  };
  const timer = setInterval(() => {
    try {
      poll();
    } catch (e) {
      log.log("error", `refclock SHM ${unit}: ${String(e)}`);
    }
  }, Math.max(1, 1000 * 2 ** dpoll));
  return Object.assign(counts, {
    close() {
      clearInterval(timer);
      seg.detach();
    },
  });
}
