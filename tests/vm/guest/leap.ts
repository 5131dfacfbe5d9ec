/**
 * Scenario "leap": a leap second inserted by the guest kernel. The clock is stepped to
 * 30 June 23:59:50 UTC, STA_INS is armed through LinuxClockDriver.setLeap (with STA_UNSYNC
 * cleared, as with rtcsync, so adjtimex reports the leap states), and the scenario samples
 * the clock state and CLOCK_REALTIME - CLOCK_MONOTONIC across midnight.
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { STA_DEL, STA_INS, TIME_STATE_NAMES, TIME_WAIT } from "../../../ffi/timex.ts";
import { LinuxClockDriver } from "../../../src/clock/linux.ts";
import { realMinusMono, realtime, round, sleep } from "./util.ts";

/** 2027-06-30T23:59:50Z in Unix seconds. */
export const LEAP_START = Date.UTC(2027, 5, 30, 23, 59, 50) / 1000;

/** 2027-12-31T23:59:50Z in Unix seconds (the deletion run). */
export const DELETE_START = Date.UTC(2027, 11, 31, 23, 59, 50) / 1000;

/** Steps to `start`, arms `action`, and watches the kernel until 13 s after `start`. */
async function watchLeap(driver: LinuxClockDriver, start: number, action: "insert" | "delete") {
  // After a leap the kernel stays in TIME_WAIT until a second passes with no leap bit set;
  // arming the next one before that would leave it stuck there.
  for (let i = 0; i < 40 && adjtimex({ modes: 0 }).state === TIME_WAIT; i++) await sleep(100);
  driver.stepBy(start - Number(realtime()) / 1e9);
  driver.setSyncStatus(true, 0.001, 0.01);
  driver.setLeap(action, action === "insert" ? 37 : undefined);
  const armed = adjtimex({ modes: 0 });
  const before = realMinusMono();

  const states: string[] = [];
  const transitions: { state: string; wall: string }[] = [];
  let maxWall = 0;
  let wentBack = false;
  let samplesIn235959 = 0;
  for (let i = 0; i < 300; i++) {
    const { state } = adjtimex({ modes: 0 });
    const wall = Number(realtime()) / 1e9;
    const name = TIME_STATE_NAMES[state] ?? String(state);
    if (states.at(-1) !== name) {
      states.push(name);
      transitions.push({ state: name, wall: new Date(wall * 1000).toISOString() });
    }
    if (wall < maxWall - 0.5) wentBack = true;
    if (Math.floor(wall) === start + 9) samplesIn235959++;
    maxWall = Math.max(maxWall, wall);
    if (wall > start + 13) break;
    await sleep(50);
  }
  const after = realMinusMono();
  const end = adjtimex({ modes: 0 });
  driver.setLeap("none");
  return {
    armedState: TIME_STATE_NAMES[armed.state],
    armedIns: (armed.timex.status & STA_INS) !== 0,
    armedDel: (armed.timex.status & STA_DEL) !== 0,
    taiBefore: armed.timex.tai,
    taiAfter: end.timex.tai,
    states,
    transitions,
    wentBack,
    samplesIn235959,
    realMinusMonoChange: round(after - before, 6),
    endWall: new Date(Number(realtime() / 1_000_000n)).toISOString(),
  };
}

/** Runs the scenario (an insertion, then a deletion) and returns its figures. */
export async function leapScenario(): Promise<Record<string, unknown>> {
  const driver = new LinuxClockDriver({ clearUnsync: true });
  driver.setFrequencyPpm(0);
  const insertion = await watchLeap(driver, LEAP_START, "insert");
  const deletion = await watchLeap(driver, DELETE_START, "delete");
  return { ...insertion, deletion };
}
