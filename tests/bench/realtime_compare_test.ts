import assert from "node:assert/strict";
import {
  type ClientResult,
  formatRatios,
  freqError,
  median,
  parseTracking,
  type RealtimeScenario,
  spread,
  summarize,
  type TrackingSample,
  trueError,
  type Truth,
} from "./realtime_compare.ts";

const REPORT = (ref: string, leap: string, sys: string, freq: string) =>
  [
    `Reference ID    : ${ref}`,
    "Stratum         : 2",
    "Ref time (UTC)  : Sat Dec 05 07:00:00 2026",
    `System time     : ${sys} of NTP time`,
    "Last offset     : +0.000001000 seconds",
    "RMS offset      : 0.000001000 seconds",
    `Frequency       : ${freq}`,
    "Residual freq   : +0.000 ppm",
    "Skew            : 0.100 ppm",
    "Root delay      : 0.000100000 seconds",
    "Root dispersion : 0.000010000 seconds",
    "Update interval : 1.0 seconds",
    `Leap status     : ${leap}`,
  ].join("\n");

Deno.test("realtime compare: tracking parsed with its sync state and signs", () => {
  const s = parseTracking(
    REPORT("7F000001 (127.0.0.1)", "Normal", "0.000200000 seconds slow", "5.000 ppm slow"),
    3,
    1000,
  )!;
  assert.equal(s.synced, true);
  assert.equal(s.systemTime, -0.0002);
  assert.equal(s.freqPpm, -5);
  assert.equal(s.hostS, 1000);
  const unsynced = parseTracking(
    REPORT("7F000001 (127.0.0.1)", "Not synchronised", "0.0 seconds fast", "0.0 ppm fast"),
    3,
  )!;
  assert.equal(unsynced.synced, false);
  assert.equal(
    parseTracking(REPORT("00000000 ()", "Normal", "0.0 seconds fast", "0.0 ppm fast"), 3)!
      .synced,
    false,
  );
  assert.equal(parseTracking("506 Cannot talk to daemon", 3), null);
});

Deno.test("realtime compare: errors are taken against the scripted truth", () => {
  // The server runs 5 ppm fast and is 200 µs ahead of the host at hostS 1000.
  const truth: Truth = { offsetAt: (h) => 200e-6 + 5e-6 * (h - 1000), freqAt: () => 5 };
  const perfect: TrackingSample = {
    t: 40,
    hostS: 1000,
    synced: true,
    refTime: "a",
    systemTime: -200e-6, // host slow of the server's time by 200 µs
    lastOffset: 0,
    freqPpm: -5, // host slow by 5 ppm
    skewPpm: 0.1,
  };
  assert.ok(Math.abs(trueError(perfect, truth)) < 1e-12);
  assert.ok(Math.abs(freqError(perfect, truth)) < 1e-12);
  const late = { ...perfect, t: 41, hostS: 1010, systemTime: -230e-6, freqPpm: -4 };
  // At 1010 the server is 250 µs ahead: the client's estimate is 20 µs behind.
  assert.ok(Math.abs(trueError(late, truth) - -20e-6) < 1e-12);
  assert.ok(Math.abs(freqError(late, truth) - 1) < 1e-12);
  const unsynced = { ...late, t: 42, synced: false };
  const r = summarize([perfect, late, unsynced], 30, truth);
  assert.ok(Math.abs(r.maxSysUs - 20) < 1e-6);
  assert.ok(Math.abs(r.syncedPct - 200 / 3) < 1e-9);
  assert.ok(Math.abs(r.rmsFreqErrPpm - Math.sqrt(2 / 3)) < 1e-9);
});

Deno.test("realtime compare: figures over runs as median (min–max)", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(spread([5], 1), "5.0");
  assert.equal(spread([3, 1, 2], 0), "2 (1–3)");
  assert.equal(spread([3, null, 2], 0), "1× never");
});

Deno.test("realtime compare: the ratio line judges the bar by the runs' interval", () => {
  const result = (rms: number): ClientResult => ({
    syncS: 0.5,
    syncedPct: 100,
    maxSysUs: 2 * rms,
    rmsSysUs: rms,
    rmsFreqErrPpm: 0,
    rmsLastUs: 0,
    freqPpm: 0,
    skewPpm: 0,
    samples: 10,
  });
  const run = (name: string, tempus: number, chronyd: number, requests?: [number, number]) => ({
    scenario: { name } as RealtimeScenario,
    seconds: 60,
    results: new Map([
      ["chronyd", { ...result(chronyd), ...requests && { requests: requests[1] } }],
      ["tempus", { ...result(tempus), ...requests && { requests: requests[0] } }],
    ]),
    relayStats: "",
  });
  const lines = formatRatios([
    run("clean", 5, 10),
    run("clean", 5.5, 10),
    run("clean", 6, 10),
    run("jitter", 1, 10),
    run("jitter", 30, 10),
    run("loss", 7, 10),
    run("wan", 8, 10, [60, 50]),
    run("wan", 9, 10, [90, 50]),
  ]).split("\n");
  assert.match(
    lines[0],
    /^clean: tempus\/chronyd RMS err 0\.55 \(0\.50–0\.60\), .*gm 0\.55 \(95 % CI 0\.44–0\.69\), ≤ 0\.8: met$/,
  );
  assert.match(lines[1], /^jitter: .*≤ 0\.8: undecided$/);
  // One run: the ratio alone, no interval and no verdict.
  assert.equal(
    lines[2],
    "loss: tempus/chronyd RMS err 0.70, max err 0.70; tempus synced at least as often in 1/1 runs",
  );
  // Through relays: the ratio of the requests that reached them, median (min–max).
  assert.match(lines[3], /^wan: .*max err 0\.85 \(0\.80–0\.90\), requests 1\.50 \(1\.20–1\.80\); /);
});
