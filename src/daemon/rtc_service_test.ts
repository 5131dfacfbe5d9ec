import assert from "node:assert/strict";
import { setClockFromRtc } from "./rtc_service.ts";
import { defaultConfig } from "../config/defaults.ts";
import type { ClockDriver } from "../base/ports.ts";
import { silentLog } from "../base/ports.ts";
import type { RtcDevice } from "../clock/rtc.ts";

function fakeDriver(now: bigint) {
  const steps: number[] = [];
  const driver: ClockDriver = {
    name: "fake",
    maxFrequencyPpm: 1e5,
    readRawTime: () => now,
    readFrequencyPpm: () => 0,
    setFrequencyPpm: (p) => p,
    stepBy: (d) => steps.push(d),
    setLeap: () => {},
    setSyncStatus: () => {},
  };
  return { driver, steps };
}

function fakeRtc(seconds: number): RtcDevice {
  return {
    path: "/dev/fake",
    utc: true,
    readTime: () => seconds,
    setTime: () => {},
    waitForUpdate: () => Promise.resolve(true),
    close: () => {},
  };
}

Deno.test("-s: the system clock is set from the RTC corrected by the rtcfile drift", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // RTC was 2 s fast at t=1e9 and gains 20 ppm; 10 hours later it reads 1e9+36000+2+0.72.
    await Deno.writeTextFile(`${dir}/rtc`, "1 1000000000 2.000000 20.000\n");
    const config = { ...defaultConfig(), rtcFile: `${dir}/rtc`, driftFile: null };
    const trueTime = 1_000_036_000n;
    const rtcReading = 1_000_036_003; // 2 s + 0.72 s fast, truncated to whole seconds
    const { driver, steps } = fakeDriver(946_684_800n * 1_000_000_000n); // clock at 2000-01-01
    const message = await setClockFromRtc(config, driver, silentLog, () => fakeRtc(rtcReading));
    assert.match(message, /System clock set from RTC/);
    assert.equal(steps.length, 1);
    const newTime = 946_684_800 + steps[0];
    // The RTC read at its update edge: the error predicted is 2 + (rtc - ref) * 20e-6.
    const predicted = 2 + (rtcReading - 1_000_000_000) * 20e-6;
    assert.ok(Math.abs(newTime - (rtcReading - predicted)) < 1e-6);
    assert.ok(Math.abs(newTime - Number(trueTime)) < 0.5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-s: without an RTC the clock is moved forward to the driftfile's time only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/drift`, "           1.000000           0.100000\n");
    const mtime = Deno.statSync(`${dir}/drift`).mtime!.getTime();
    const config = { ...defaultConfig(), driftFile: `${dir}/drift` };
    const behind = fakeDriver(BigInt(mtime - 3_600_000) * 1_000_000n);
    const noRtc = () => {
      throw new Error("cannot open RTC /dev/rtc0: no such RTC device (ENOENT)");
    };
    const message = await setClockFromRtc(config, behind.driver, silentLog, noRtc);
    assert.match(message, /driftfile time/);
    assert.ok(Math.abs(behind.steps[0] - 3600) < 0.01);
    const ahead = fakeDriver(BigInt(mtime + 1000) * 1_000_000n);
    assert.match(await setClockFromRtc(config, ahead.driver, silentLog, noRtc), /not set/);
    assert.deepEqual(ahead.steps, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
