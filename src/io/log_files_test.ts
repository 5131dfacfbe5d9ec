import assert from "node:assert/strict";
import { defaultConfig } from "../config/defaults.ts";
import type { Instant } from "../base/time.ts";
import {
  bannerBlock,
  cExp,
  cFixed,
  formatMeasurementLine,
  formatRtcLine,
  formatSelectionLine,
  formatStatisticsLine,
  formatTrackingLine,
  logTime,
  MEASUREMENTS_BANNER,
  TRACKING_BANNER,
  type TrackingLogRecord,
} from "./log_format.ts";
import { type LineFileSystem, LogFiles } from "./log_files.ts";

function at(iso: string): Instant {
  return BigInt(Date.parse(iso)) * 1_000_000n + 123_456n;
}

Deno.test("C number formats", () => {
  assert.equal(cExp(-8.621e-6, 3, 10), "-8.621e-06");
  assert.equal(cExp(0.01534, 3, 10), " 1.534e-02");
  assert.equal(cExp(42.28, 3, 10), " 4.228e+01");
  assert.equal(cExp(0, 3, 10), " 0.000e+00");
  assert.equal(cExp(1.5e-120, 3), "1.500e-120");
  assert.equal(cExp(0.078, 1, 7), "7.8e-02");
  assert.equal(cExp(NaN, 3, 10), "       nan");
  assert.equal(cFixed(-3.5414, 3, 10), "    -3.541");
  assert.equal(cFixed(Infinity, 3, 5), "  inf");
});

const TRACKING: TrackingLogRecord = {
  time: at("2017-08-22T13:22:36Z"),
  reference: "203.0.113.15",
  stratum: 2,
  freqPpm: 3.541, // tempus sense: chrony prints -3.541
  skewPpm: 0.075,
  offset: 8.621e-6, // reference minus local: chrony prints -8.621e-06 (clock fast)
  leap: 0,
  combinedSources: 2,
  offsetSd: 2.94e-3,
  remainingCorrection: -2.084e-4,
  rootDelay: 1.534e-2,
  rootDispersion: 3.472e-4,
  maxError: 8.304e-3,
};

Deno.test("tracking.log line matches chrony's documented example", () => {
  assert.equal(
    formatTrackingLine(TRACKING),
    "2017-08-22 13:22:36 203.0.113.15     2     -3.541      0.075 -8.621e-06 N  2  2.940e-03 -2.084e-04  1.534e-02  3.472e-04  8.304e-03",
  );
});

Deno.test("measurements.log line in chrony's layout", () => {
  const line = formatMeasurementLine({
    time: at("2016-11-09T05:40:50Z"),
    address: "203.0.113.15",
    leap: 0,
    stratum: 2,
    tests: 0x3ff,
    localPoll: 10,
    remotePoll: 10,
    score: 1,
    offset: -4.966e-3,
    peerDelay: 2.296e-1,
    peerDispersion: 1.577e-5,
    rootDelay: 1.615e-1,
    rootDispersion: 7.446e-3,
    refId: 0xcb00717b,
    mode: 4,
    interleaved: false,
    txSource: "D",
    rxSource: "K",
    valid: true,
  });
  assert.equal(
    line,
    "2016-11-09 05:40:50 203.0.113.15    N  2 111 111 1111  10 10 1.00 -4.966e-03  2.296e-01  1.577e-05  1.615e-01  7.446e-03 CB00717B 4B D K",
  );
  const failed = formatMeasurementLine({
    time: at("2016-11-09T05:40:50Z"),
    address: "2001:db8::1",
    leap: 3,
    stratum: 16,
    tests: 0b1111111011, // test 3 (bit 2) failed
    localPoll: -2,
    remotePoll: 6,
    score: 0.5,
    offset: 0,
    peerDelay: 0,
    peerDispersion: 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    mode: 1,
    interleaved: true,
    valid: false,
  });
  assert.ok(failed.includes(" ? 16 110 111 1111  -2  6 0.50 "), failed);
  assert.ok(failed.endsWith(" 00000000 1I D D"), failed);
});

Deno.test("statistics.log line matches chrony's documented example", () => {
  const line = formatStatisticsLine({
    time: at("2016-08-10T05:40:50Z"),
    address: "203.0.113.15",
    stdDev: 6.261e-3,
    estimatedOffset: 3.247e-3, // chrony prints -3.247e-03 (local clock slow)
    offsetSd: 2.22e-3,
    residualFreqPpm: -1.874, // tempus sense; chrony's "gaining" rate +1.874e-06
    skewPpm: 1.08,
    stress: 0.078,
    samples: 16,
    bestStart: 0,
    runs: 8,
    asymmetry: 0,
  });
  assert.equal(
    line,
    "2016-08-10 05:40:50 203.0.113.15     6.261e-03 -3.247e-03  2.220e-03  1.874e-06  1.080e-06 7.8e-02  16   0   8  0.00",
  );
});

Deno.test("rtc.log and selection.log lines in chrony's layout", () => {
  assert.equal(
    formatRtcLine({
      time: at("2015-07-22T05:40:50Z"),
      rtcFast: -0.03736,
      valid: true,
      estimatedFast: -0.037434,
      slopePpm: -37.948,
      samples: 12,
      runs: 5,
      interval: 120,
    }),
    "2015-07-22 05:40:50      -0.037360 1       -0.037434       -37.948  12   5  120",
  );
  assert.equal(
    formatSelectionLine({
      time: at("2022-05-01T02:01:20Z"),
      address: "203.0.113.15",
      state: "*",
      noselect: false,
      prefer: false,
      trust: false,
      require: false,
      reachability: 0o377,
      score: 1,
      lastSampleAgo: 42.28,
      low: -1.239e-4,
      high: 1.575e-4,
    }),
    "2022-05-01 02:01:20 203.0.113.15    * -----  377  1.00  4.228e+01 -1.575e-04  1.239e-04",
  );
});

function memFs(): LineFileSystem & { files: Map<string, string>; dirs: string[]; fail: boolean } {
  const files = new Map<string, string>();
  const fs = {
    files,
    dirs: [] as string[],
    fail: false,
    mkdir(dir: string) {
      fs.dirs.push(dir);
    },
    append(path: string, text: string) {
      if (fs.fail) throw new Error("disk full");
      files.set(path, (files.get(path) ?? "") + text);
    },
  };
  return fs;
}

Deno.test("banners every logbanner lines; only enabled kinds are written", () => {
  const fs = memFs();
  const logs = new LogFiles({ dir: "/var/log/t/", kinds: ["tracking"], banner: 2, fs });
  for (let i = 0; i < 5; i++) logs.tracking(TRACKING);
  logs.statistics({
    time: 0n,
    address: "x",
    stdDev: 0,
    estimatedOffset: 0,
    offsetSd: 0,
    residualFreqPpm: 0,
    skewPpm: 0,
    stress: 0,
    samples: 0,
    bestStart: 0,
    runs: 0,
    asymmetry: 0,
  });
  assert.deepEqual([...fs.files.keys()], ["/var/log/t/tracking.log"]);
  const lines = fs.files.get("/var/log/t/tracking.log")!.trimEnd().split("\n");
  const rule = "=".repeat(TRACKING_BANNER.length);
  assert.deepEqual(
    lines.map((l) => (l === rule ? "R" : l === TRACKING_BANNER ? "B" : "L")).join(""),
    "RBRLLRBRLLRBRL",
  );
  assert.equal(bannerBlock("ab"), "==\nab\n==\n");
});

Deno.test("logbanner 0 writes no banner; measurements vs rawmeasurements", () => {
  const fs = memFs();
  const base = {
    time: 0n,
    address: "192.0.2.1",
    leap: 0 as const,
    stratum: 1,
    tests: 0,
    localPoll: 6,
    remotePoll: 6,
    score: 0,
    offset: 0,
    peerDelay: 0,
    peerDispersion: 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    mode: 4,
    interleaved: false,
  };
  const valid = new LogFiles({ dir: "/a", kinds: ["measurements"], banner: 0, fs });
  valid.measurements({ ...base, valid: false });
  valid.measurements({ ...base, valid: true });
  const raw = new LogFiles({ dir: "/b", kinds: ["rawmeasurements"], banner: 32, fs });
  raw.measurements({ ...base, valid: false });
  raw.measurements({ ...base, valid: true });
  assert.equal(fs.files.get("/a/measurements.log")!.split("\n").length - 1, 1);
  const rawText = fs.files.get("/b/measurements.log")!;
  assert.ok(rawText.includes(MEASUREMENTS_BANNER));
  assert.equal(rawText.split("\n").length - 1, 5);
});

Deno.test("reopen starts each file with a banner again; failures are logged once", () => {
  const fs = memFs();
  const messages: string[] = [];
  const logs = new LogFiles({
    dir: "/l",
    kinds: ["tracking"],
    banner: 32,
    fs,
    log: { log: (_level, m) => messages.push(m) },
  });
  logs.tracking(TRACKING);
  logs.tracking(TRACKING);
  logs.reopen();
  logs.tracking(TRACKING);
  const text = fs.files.get("/l/tracking.log")!;
  assert.equal(text.split(TRACKING_BANNER).length - 1, 2);
  fs.fail = true;
  logs.tracking(TRACKING);
  logs.tracking(TRACKING);
  assert.deepEqual(messages, ["Could not write to /l/tracking.log"]);
});

Deno.test("LogFiles.fromConfig and real files on disk", async () => {
  assert.equal(LogFiles.fromConfig(defaultConfig()), null);
  const dir = await Deno.makeTempDir({ prefix: "tempus-logs-" });
  try {
    const logs = LogFiles.fromConfig({
      ...defaultConfig(),
      logDir: `${dir}/sub`,
      logKinds: ["tracking", "statistics"],
    });
    assert.ok(logs);
    assert.equal(logs.enabled("tracking"), true);
    assert.equal(logs.enabled("rtc"), false);
    logs.tracking(TRACKING);
    Deno.renameSync(`${dir}/sub/tracking.log`, `${dir}/sub/tracking.log.1`);
    logs.reopen();
    logs.tracking(TRACKING);
    const fresh = Deno.readTextFileSync(`${dir}/sub/tracking.log`);
    assert.ok(fresh.startsWith("=".repeat(TRACKING_BANNER.length) + "\n" + TRACKING_BANNER));
    assert.equal(fresh.trimEnd().split("\n").length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log times are UTC and never throw, even far out of range", () => {
  assert.equal(logTime(0n), "1970-01-01 00:00:00");
  assert.equal(logTime(-1n), "1969-12-31 23:59:59");
  assert.equal(logTime(10n ** 40n), "0000-00-00 00:00:00");
});
