/**
 * Scenarios "refclock_rtc" and "refclock_probe": the RTC refclock driver (chrony 4.7's RTC
 * refclock) on the guest's real /dev/rtc0 with update interrupts, and a census of the
 * PPS and PTP devices the guest kernel offers (the Debian cloud kernel has neither a
 * pps-ktimer nor a PHC-carrying NIC driver; see README "Reference clocks").
 *
 * @module
 */
import { openRtc } from "../../../src/clock/rtc.ts";
import { openRtcRefclock } from "../../../src/refclock/rtc_driver.ts";
import { realtime, round } from "./util.ts";

/** Runs the RTC refclock driver for five update interrupts. */
export async function refclockRtcScenario(): Promise<Record<string, unknown>> {
  const rtc = openRtc("/dev/rtc0", true);
  const rtcMinusSystem = rtc.readTime() - Number(realtime()) / 1e9;
  rtc.close();
  const offsets: number[] = [];
  const lines: string[] = [];
  const h = openRtcRefclock(
    0,
    (_t, offset) => offsets.push(offset),
    {
      log: (_l, m) => void lines.push(m),
    },
    "refclock RTC /dev/rtc0",
    {
      open: () => openRtc("/dev/rtc0", true),
      now: realtime,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    },
  );
  for (let i = 0; i < 80 && offsets.length < 5; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  h.close();
  await h.done;
  return {
    offsets: offsets.map((o) => round(o, 6)),
    rtcMinusSystem: round(rtcMinusSystem, 3),
    accepted: h.accepted,
    log: lines,
  };
}

function list(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Which PPS and PTP devices the guest kernel has. */
export function refclockProbeScenario(): Promise<Record<string, unknown>> {
  return Promise.resolve({
    pps: list("/sys/class/pps"),
    ptp: list("/sys/class/ptp"),
    rtc: list("/sys/class/rtc"),
  });
}
