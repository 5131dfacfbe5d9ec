/**
 * Scenario "daemon_rtc": the daemon's RTC features against the guest's /dev/rtc0.
 * - `-s`: the RTC holds true time, the system clock is 3 h behind; the daemon must step it
 *   from the RTC at start.
 * - `rtcsync`: the RTC is 1 h off; once the daemon is synchronised it clears STA_UNSYNC and
 *   the kernel's 11-minute mode copies the system time into the RTC.
 * - `trimrtc`: with an rtcfile the daemon tracks the RTC; `tempus trimrtc` sets the RTC
 *   (5 s off) back to the system time.
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { STA_UNSYNC } from "../../../ffi/timex.ts";
import { LinuxClockDriver } from "../../../src/clock/linux.ts";
import { openRtc } from "../../../src/clock/rtc.ts";
import { startDaemonProcess, tempusCommand } from "./daemon_process.ts";
import { epochFromCmdline, type RefServer, startRefServer } from "./ref_server.ts";
import { trueOffset } from "./sync_boot.ts";
import { realtime, round, sleep } from "./util.ts";

/** RTC minus system time, s; read through sysfs, since a daemon may hold /dev/rtc0 open. */
function rtcMinusSystem(): number {
  const rtc = Number(Deno.readTextFileSync("/sys/class/rtc/rtc0/since_epoch").trim());
  return rtc - Number(realtime()) / 1e9;
}

function setRtc(offsetFromSystem: number): void {
  const rtc = openRtc("/dev/rtc0", true);
  try {
    rtc.setTime(Math.round(Number(realtime()) / 1e9 + offsetFromSystem));
  } finally {
    rtc.close();
  }
}

async function setFromRtc(server: RefServer, driver: LinuxClockDriver) {
  setRtc(0); // the RTC holds true time (the clock is on the reference now)
  driver.stepBy(-3 * 3600);
  const before = trueOffset(server.now);
  const d = startDaemonProcess("rtconutc\nrtcdevice /dev/rtc0\nport 0\ncmdport 0\n", ["-s"]);
  try {
    const seen = await d.waitForLog(/System clock (set|within)/, 30_000);
    return {
      before: round(before, 3),
      after: round(trueOffset(server.now), 3),
      logged: seen,
      log: seen ? undefined : d.log().slice(-2000),
    };
  } finally {
    await d.stop();
  }
}

async function rtcSync(server: RefServer) {
  setRtc(3600);
  const rtcBefore = rtcMinusSystem();
  const d = startDaemonProcess(
    [
      `server 127.0.0.1 port ${server.port} iburst minpoll 0 maxpoll 0`,
      "rtcsync",
      "rtcdevice /dev/rtc0",
      "makestep 1 -1",
      "port 0",
      "cmdport 0",
      "",
    ].join("\n"),
  );
  try {
    let unsyncCleared = false;
    let rtcAfter = rtcBefore;
    for (let i = 0; i < 60 && !d.exited(); i++) {
      await sleep(1000);
      unsyncCleared ||= (adjtimex({ modes: 0 }).timex.status & STA_UNSYNC) === 0;
      rtcAfter = rtcMinusSystem();
      if (unsyncCleared && Math.abs(rtcAfter) < 2) break;
    }
    return {
      rtcBefore: round(rtcBefore, 3),
      rtcAfter: round(rtcAfter, 3),
      unsyncCleared,
      log: Math.abs(rtcAfter) < 2 ? undefined : d.log().slice(-2000),
    };
  } finally {
    await d.stop();
  }
}

async function trimRtc() {
  setRtc(5);
  const rtcBefore = rtcMinusSystem();
  const rtcFile = "/tmp/tempus-rtcfile";
  await Deno.remove(rtcFile).catch(() => {});
  const d = startDaemonProcess(
    [
      `rtcfile ${rtcFile}`,
      "rtconutc",
      "rtcdevice /dev/rtc0",
      "port 0",
      "cmdport 0",
      "",
    ].join("\n"),
  );
  try {
    let trim = { code: -1, text: "" };
    let rtcdata = { code: -1, text: "" };
    for (let i = 0; i < 4 && !d.exited(); i++) {
      await sleep(5000);
      rtcdata = await tempusCommand(["rtcdata"]);
      trim = await tempusCommand(["trimrtc"]);
      if (trim.code === 0 && Math.abs(rtcMinusSystem()) < 1.5) break;
    }
    return {
      rtcBefore: round(rtcBefore, 3),
      rtcAfter: round(rtcMinusSystem(), 3),
      trim,
      rtcdata,
      log: d.log().slice(-2000),
    };
  } finally {
    await d.stop();
  }
}

/** Runs the scenario and returns its figures. */
export async function daemonRtcScenario(): Promise<Record<string, unknown>> {
  const epoch = epochFromCmdline(Deno.readTextFileSync("/proc/cmdline"));
  if (epoch === null) throw new Error("no tempus.epoch= on the kernel command line");
  const server = startRefServer(epoch);
  try {
    const driver = new LinuxClockDriver();
    driver.setFrequencyPpm(0);
    driver.stepBy(-trueOffset(server.now));
    const s = await setFromRtc(server, driver);
    driver.stepBy(-trueOffset(server.now));
    const sync = await rtcSync(server);
    driver.stepBy(-trueOffset(server.now));
    const trim = await trimRtc();
    return { setFromRtc: s, rtcSync: sync, trimRtc: trim };
  } finally {
    server.close();
  }
}
