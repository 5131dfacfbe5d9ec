/**
 * Scenario "leap": a leap second inserted by the guest kernel. The clock is stepped to
 * 30 June 23:59:50 UTC, STA_INS is armed through LinuxClockDriver.setLeap (with STA_UNSYNC
 * cleared, as with rtcsync, so adjtimex reports the leap states), and the scenario samples
 * the clock state and CLOCK_REALTIME - CLOCK_MONOTONIC across midnight.
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { STA_INS, TIME_STATE_NAMES } from "../../../ffi/timex.ts";
import { LinuxClockDriver } from "../../../src/clock/linux.ts";
import { realMinusMono, realtime, round, sleep } from "./util.ts";

/** 2027-06-30T23:59:50Z in Unix seconds. */
export const LEAP_START = Date.UTC(2027, 5, 30, 23, 59, 50) / 1000;

/** Runs the scenario and returns its figures. */
export async function leapScenario(): Promise<Record<string, unknown>> {
  const driver = new LinuxClockDriver({ clearUnsync: true });
  driver.setFrequencyPpm(0);
  driver.stepBy(LEAP_START - Number(realtime()) / 1e9);
  driver.setSyncStatus(true, 0.001, 0.01);
  driver.setLeap("insert", 37);
  const armed = adjtimex({ modes: 0 });
  const before = realMinusMono();

  const states: string[] = [];
  const transitions: { state: string; wall: string }[] = [];
  let maxWall = 0;
  let wentBack = false;
  for (let i = 0; i < 300; i++) {
    const { state } = adjtimex({ modes: 0 });
    const wall = Number(realtime()) / 1e9;
    const name = TIME_STATE_NAMES[state] ?? String(state);
    if (states.at(-1) !== name) {
      states.push(name);
      transitions.push({ state: name, wall: new Date(wall * 1000).toISOString() });
    }
    if (wall < maxWall - 0.5) wentBack = true;
    maxWall = Math.max(maxWall, wall);
    if (wall > LEAP_START + 13) break;
    await sleep(50);
  }
  const after = realMinusMono();
  const end = adjtimex({ modes: 0 });
  driver.setLeap("none");
  return {
    armedState: TIME_STATE_NAMES[armed.state],
    armedIns: (armed.timex.status & STA_INS) !== 0,
    taiBefore: armed.timex.tai,
    taiAfter: end.timex.tai,
    states,
    transitions,
    wentBack,
    realMinusMonoChange: round(after - before, 6),
    endWall: new Date(Number(realtime() / 1_000_000n)).toISOString(),
  };
}
