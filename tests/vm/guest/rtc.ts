/**
 * Scenario "rtc": /dev/rtc0 through LinuxRtcDevice. Reads the RTC (to compare with the
 * host's `-rtc base=`), waits for update interrupts, sets the RTC and reads it back.
 *
 * @module
 */
import { openRtc } from "../../../src/clock/rtc.ts";
import { monotonicRaw, realtime, round } from "./util.ts";

/** The time the scenario writes into the RTC: 2040-01-02T03:04:05Z. */
export const RTC_SET_TO = Date.UTC(2040, 0, 2, 3, 4, 5) / 1000;

/** Runs the scenario and returns its figures. */
export async function rtcScenario(): Promise<Record<string, unknown>> {
  let missingError = "";
  try {
    openRtc("/dev/rtc9", true).close();
  } catch (e) {
    missingError = e instanceof Error ? e.message : String(e);
  }
  const rtc = openRtc("/dev/rtc0", true);
  try {
    const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
    const rtcAtStart = rtc.readTime();
    const systemAtStart = Number(realtime() / 1_000_000_000n);

    const edges: number[] = [];
    const secondsAfterEdge: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ok = await rtc.waitForUpdate(3000);
      if (!ok) break;
      edges.push(Number(monotonicRaw()) / 1e9);
      secondsAfterEdge.push(rtc.readTime());
    }
    const intervals = edges.slice(1).map((t, i) => round(t - edges[i], 4));

    rtc.setTime(RTC_SET_TO);
    const readBack = rtc.readTime();
    const edgeAfterSet = await rtc.waitForUpdate(3000);
    const afterEdge = rtc.readTime();

    return {
      uptime,
      rtcAtStart,
      systemAtStart,
      intervals,
      secondsAfterEdge,
      setTo: RTC_SET_TO,
      readBack,
      edgeAfterSet,
      afterEdge,
      missingError,
    };
  } finally {
    rtc.close();
  }
}
