import assert from "node:assert/strict";
import {
  compensation,
  MAX_COMP_PPM,
  parsePointFile,
  readTemperature,
  TempCompService,
} from "./tempcomp.ts";
import { LocalClock } from "../core/local_clock.ts";
import { NullClockDriver } from "../clock/null.ts";
import type { TempCompConfig } from "../config/model.ts";
import type { LogLevel, TimerPort } from "../base/ports.ts";

/** Timers that never fire (no slew is started in these tests). */
const NO_TIMERS: TimerPort = { setTimer: () => 0, cancelTimer: () => {} };

const QUAD: TempCompConfig = {
  file: "/sensor",
  interval: 30,
  pointFile: null,
  t0: 26000,
  k0: 0.0,
  k1: 0.000183,
  k2: 0.0,
};

Deno.test("the quadratic is chrony's k0 + (T - T0) k1 + (T - T0)^2 k2", () => {
  // chrony.conf(5)'s example: tempcomp ... 30 26000 0.0 0.000183 0.0
  assert.ok(Math.abs(compensation(QUAD, null, 36000) - 1.83) < 1e-12);
  assert.equal(compensation({ t0: 20, k0: 1, k1: 0.5, k2: 0.25 }, null, 22), 1 + 1 + 1);
  assert.equal(compensation({ t0: 20, k0: 1, k1: 0.5, k2: 0.25 }, null, 20), 1);
});

Deno.test("a point table interpolates inside and extrapolates outside, as chrony", () => {
  const points = parsePointFile("20000 1.0\n30000 3.0\n40000 4.0\n", "/p");
  assert.equal(compensation(QUAD, points, 25000), 2.0);
  assert.equal(compensation(QUAD, points, 30000), 3.0);
  assert.equal(compensation(QUAD, points, 35000), 3.5);
  assert.equal(compensation(QUAD, points, 10000), -1.0); // below: first segment extended
  assert.equal(compensation(QUAD, points, 50000), 5.0); // above: last segment extended
});

Deno.test("bad point files are refused with the line", () => {
  assert.throws(() => parsePointFile("20 1\n", "/p"), /not enough points/);
  assert.throws(() => parsePointFile("20 1\n10 2\n", "/p"), /\/p:2: points not in increasing/);
  assert.throws(() => parsePointFile("20 1\nabc 2\n", "/p"), /\/p:2: expected a temperature/);
});

Deno.test("the sensor's first number is the temperature", () => {
  assert.equal(readTemperature("45000\n"), 45000);
  assert.equal(readTemperature(" -3.5 extra"), -3.5);
  assert.equal(readTemperature("1e3"), 1000);
  assert.equal(readTemperature("hot"), null);
  assert.equal(readTemperature(""), null);
});

function service(files: Record<string, string>, config: TempCompConfig = QUAD) {
  const applied: number[] = [];
  const lines: [number, number][] = [];
  const logs: [LogLevel, string][] = [];
  const s = new TempCompService(config, {
    apply: (ppm) => applied.push(ppm),
    now: () => 0n,
    logLine: (_t, temp, comp) => lines.push([temp, comp]),
    log: { log: (level, message) => logs.push([level, message]) },
    readFile: (p) => {
      if (!(p in files)) throw new Error("ENOENT");
      return files[p];
    },
  });
  return { s, applied, lines, logs };
}

Deno.test("each reading applies the compensation and logs temperature and compensation", () => {
  const files: Record<string, string> = { "/sensor": "36000\n" };
  const { s, applied, lines, logs } = service(files);
  assert.ok(Math.abs(s.update()! - 1.83) < 1e-12);
  files["/sensor"] = "26000";
  assert.equal(s.update(), 0);
  assert.equal(applied.length, 2);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1], [26000, 0]);
  assert.equal(logs.length, 0);
});

Deno.test("an unreadable sensor and an insane compensation are warned about, nothing applied", () => {
  const files: Record<string, string> = { "/sensor": "garbage" };
  const { s, applied, logs } = service(files);
  assert.equal(s.update(), null);
  assert.match(logs[0][1], /^Could not read temperature from \/sensor$/);
  files["/sensor"] = String(26000 + (MAX_COMP_PPM + 1) / 0.000183);
  assert.equal(s.update(), null);
  assert.match(logs[1][1], /exceeds sanity limit of 10\.0/);
  assert.equal(applied.length, 0);
});

Deno.test("the point file is read when the service is created", () => {
  const cfg = { ...QUAD, pointFile: "/points" };
  assert.throws(() => service({ "/sensor": "1" }, cfg), /ENOENT/);
  const { s } = service({ "/sensor": "15", "/points": "10 1\n20 2\n" }, cfg);
  assert.equal(s.update(), 1.5);
});

Deno.test("LocalClock.setTempComp: the driver frequency moves, the learned frequency does not", () => {
  const driver = new NullClockDriver();
  const clock = new LocalClock(driver, NO_TIMERS, {
    precision: 1e-9,
    initialFrequencyPpm: 10,
  });
  assert.equal(driver.readFrequencyPpm(), 10);
  clock.setTempComp(2);
  // chrony LCL_SetTempComp: the clock is sped up by comp ppm (tempus sense: +comp).
  assert.ok(Math.abs(driver.readFrequencyPpm() - (10 * (1 - 2e-6) + 2)) < 1e-12);
  assert.equal(clock.tempCompPpm, 2);
  assert.equal(clock.freqPpm, 10);
  clock.setTempComp(0);
  assert.equal(driver.readFrequencyPpm(), 10);
});
