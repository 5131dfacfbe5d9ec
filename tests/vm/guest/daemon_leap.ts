/**
 * Scenario "daemon_leap": a leap second announced by the server and inserted by the kernel
 * under `tempus daemon` (leapsecmode system). The reference starts at 2027-06-30 23:59:10
 * UTC announcing LI=1 and repeats 23:59:59 at midnight, as the guest kernel will. The
 * daemon must arm STA_INS; the kernel inserts the second (CLOCK_REALTIME - MONOTONIC drops
 * by 1 s once); the daemon neither steps nor loses the reference afterwards.
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { STA_INS, TIME_STATE_NAMES } from "../../../ffi/timex.ts";
import { LinuxClockDriver } from "../../../src/clock/linux.ts";
import { startDaemonProcess } from "./daemon_process.ts";
import { startRefServer } from "./ref_server.ts";
import { trueOffset } from "./sync_boot.ts";
import { monotonicRaw, realMinusMono, realtime, round, sleep } from "./util.ts";

/** The inserted leap second ends this UTC day: 2027-07-01T00:00:00Z. */
export const LEAP_AT = BigInt(Date.UTC(2027, 6, 1)) * 1_000_000n;
/** Where the reference (and the guest clock) start: 50 s before the leap. */
export const START_BEFORE_S = 50;

/** Runs the scenario and returns its figures. */
export async function daemonLeapScenario(): Promise<Record<string, unknown>> {
  const start = LEAP_AT - BigInt(START_BEFORE_S) * 1_000_000_000n;
  const server = startRefServer(start - monotonicRaw(), 0, { atNs: LEAP_AT });
  const setup = new LinuxClockDriver();
  setup.setFrequencyPpm(0);
  setup.setLeap("none");
  setup.stepBy(-trueOffset(server.now));
  const aligned = trueOffset(server.now);

  const d = startDaemonProcess(
    [
      `server 127.0.0.1 port ${server.port} iburst minpoll 0 maxpoll 0`,
      "leapsecmode system",
      "port 0",
      "cmdport 0",
      "",
    ].join("\n"),
  );
  const base = realMinusMono();
  const jumps: { wall: string; jump: number }[] = [];
  const states: string[] = [];
  let insSeen = false;
  let last = base;
  const offsetsAfter: number[] = [];
  try {
    for (;;) {
      const { state, timex } = adjtimex({ modes: 0 });
      insSeen ||= (timex.status & STA_INS) !== 0;
      const name = TIME_STATE_NAMES[state] ?? String(state);
      if (states.at(-1) !== name) states.push(name);
      const rm = realMinusMono();
      if (Math.abs(rm - last) > 0.0005) {
        jumps.push({
          wall: new Date(Number(realtime() / 1_000_000n)).toISOString(),
          jump: round(rm - last, 6),
        });
      }
      last = rm;
      const sinceLeap = Number(server.now() - LEAP_AT) / 1e9;
      if (sinceLeap > 3 && sinceLeap < 1e6 && server.now() > LEAP_AT) {
        offsetsAfter.push(round(trueOffset(server.now), 6));
      }
      if (offsetsAfter.length >= 30 || d.exited()) break;
      await sleep(sinceLeap > -3 && sinceLeap < 3 ? 50 : 500);
    }
  } finally {
    await d.stop();
    server.close();
  }
  const log = d.log();
  const afterLeap = log.slice(Math.max(0, log.indexOf("Leap second inserted")));
  return {
    aligned: round(aligned, 6),
    scheduledLogged: /Leap second insertion scheduled/.test(log),
    insertedLogged: /Leap second inserted/.test(log),
    staInsSeen: insSeen,
    states,
    jumps,
    totalJump: round(last - base, 6),
    offsetsAfter,
    maxAbsOffsetAfter: Math.max(...offsetsAfter.map(Math.abs)),
    backwardJumpLogged: /Backward time jump/.test(afterLeap),
    unsynchronisedAfter: /Can't synchronise/.test(afterLeap),
    reselectedAfter: /Selected source/.test(afterLeap),
    log: log.slice(-3000),
  };
}
