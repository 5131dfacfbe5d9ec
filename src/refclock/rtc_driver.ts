/**
 * The RTC refclock driver (chrony 4.7's refclock_rtc.c): the real-time clock as a time
 * source. With update interrupts, each interrupt marks the instant the RTC's second
 * changed: the RTC time read after it is the reference, the system time at the interrupt
 * the sample time; the first interrupt after (re)opening is skipped (it may be stale, and
 * in the VM it came 0.2 s late). Without interrupts it falls back to reading the RTC every 2^dpoll
 * seconds, its time taken as the middle of its second (+0.5 s). A device that fails is
 * closed and reopened every second.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { RtcDevice } from "../clock/rtc.ts";
import type { DriverClock, RefclockDriverHandle, RefclockSink } from "./driver.ts";
import { bestEffort } from "../base/errors.ts";

/** The edges of the driver. */
export interface RtcDriverDeps extends DriverClock {
  /** Opens the RTC; throws when it cannot. */
  open(): RtcDevice;
}

/** Opens the RTC through `deps.open` (throws: a start-up failure) and starts reading. */
export function openRtcRefclock(
  dpoll: number,
  sink: RefclockSink,
  log: LogPort,
  name: string,
  deps: RtcDriverDeps,
): RefclockDriverHandle & { readonly done: Promise<void> } {
  let rtc: RtcDevice | null = deps.open();
  const counts = { accepted: 0, rejected: 0 };
  let closed = false;
  let polling = false;
  let skipNext = true;
  const sample = (now: bigint, rtcSeconds: number, half: boolean) => {
    const ref = BigInt(rtcSeconds) * 1_000_000_000n + (half ? 500_000_000n : 0n);
    counts.accepted++;
    sink(now, Number(ref - now) / 1e9, 0);
  };
  const step = async (dev: RtcDevice) => {
    if (!polling) {
      let edge: boolean;
      try {
        edge = await dev.waitForUpdate(1500);
      } catch (e) {
        if (counts.accepted > 0) throw e;
        log.log("info", `${name}: no update interrupts (${String(e)}), falling back to polling`);
        polling = true;
        return;
      }
      if (closed) return;
      if (!edge) {
        counts.rejected++;
        return;
      }
      const now = deps.now();
      if (skipNext) {
        skipNext = false;
        return;
      }
      sample(now, dev.readTime(), false);
      return;
    }
    await deps.sleep(1000 * 2 ** dpoll);
    if (closed) return;
    const now = deps.now();
    sample(now, dev.readTime(), true);
  };
  const done = (async () => {
    while (!closed) {
      if (rtc === null) {
        await deps.sleep(1000);
        if (closed) break;
        try {
          rtc = deps.open();
          skipNext = true;
          log.log("info", `${name}: device back`);
        } catch {
          continue;
        }
      }
      try {
        await step(rtc);
      } catch (e) {
        log.log("warning", `${name}: device lost (${String(e)}); reopening every second`);
        bestEffort(() => rtc?.close());
        rtc = null;
      }
    }
    bestEffort(() => rtc?.close());
    rtc = null;
  })();
  return Object.assign(counts, {
    done,
    close() {
      closed = true;
    },
  });
}
