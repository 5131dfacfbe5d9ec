import assert from "node:assert/strict";
import { parseMeasurementsLog, parseTrackingLog } from "../io/log_parse.ts";
import { compareUpdates, formatEvent } from "./replay.ts";
import { failedTests, inferredParams, replay } from "./replay_run.ts";
import { SimRandom } from "../sim/prng.ts";
import { parseSampleRecords } from "../io/sample_record.ts";

const LOGS = new URL("../../docs/img/logs/congestion-tempus/", import.meta.url);

Deno.test("a recorded real-time run of tempus replays decision for decision", () => {
  // The exact recording (recordmeasurements) of a 300-s congestion run: every reply the daemon
  // measured, with its verdict. Replayed on the original's timeline, the engine must take and
  // hold back the same replies (the delay gate and test C decide on microseconds) and make the
  // same clock updates.
  const recording = parseSampleRecords(Deno.readTextFileSync(new URL("samples.jsonl", LOGS)));
  const records = recording.entries;
  const recorded = parseTrackingLog(Deno.readTextFileSync(new URL("tracking.log", LOGS)))
    .entries;
  assert.ok(records.length >= 80);
  // The run's tempus had `server 127.0.0.1 ... iburst minpoll -2 maxpoll 2 delaygate` (the
  // minimax line, 2026-12-08 02:45 UTC); its polls never went below -1 (each reply
  // the gate held back moved the poll as a taken one would), so the records alone would give
  // minpoll -1.
  const inferred = inferredParams(records, "127.0.0.1");
  assert.deepEqual([inferred.maxPoll, inferred.iburst], [2, true]);
  const params = new Map([["127.0.0.1", { ...inferred, minPoll: -2, delayGate: true }]]);
  const r = replay(records, {
    exactTimes: true,
    localPrecision: recording.precision ?? undefined,
    params,
  });
  const samples = r.events.filter((e) => e.kind === "sample");
  assert.equal(samples.length, records.length);
  assert.equal(r.unused, 0);
  samples.forEach((s, i) => {
    assert.ok(s.kind === "sample" && s.accepted === s.recorded, formatEvent(s));
    assert.equal(s.kind === "sample" && s.offset, records[i].offset);
  });
  const held = samples.filter((s) => s.kind === "sample" && !s.accepted).length;
  assert.ok(held >= 10, `${held} replies held back`);
  const c = compareUpdates(recorded, r.events);
  assert.equal(c.replayed, c.recorded);
  assert.ok(c.matched >= 0.9 * c.recorded, JSON.stringify(c));
  assert.ok(c.medianDiff < 1e-6, JSON.stringify(c));
  for (const e of r.events) if (e.kind === "update") assert.equal(e.selected, "127.0.0.1");
  console.log(`  replay: ${held} held back; ${JSON.stringify(c)}`);
});

Deno.test("the same run's measurements.log (whole seconds, 4 digits) replays closely", () => {
  // chrony-style logs lose the sub-second times the delay gate's growth term depends on, so a
  // few verdicts may differ; the updates stay close.
  const records = parseMeasurementsLog(
    Deno.readTextFileSync(new URL("measurements.log", LOGS)),
  ).entries;
  const recorded = parseTrackingLog(Deno.readTextFileSync(new URL("tracking.log", LOGS)))
    .entries;
  const params = new Map([["127.0.0.1", {
    ...inferredParams(records, "127.0.0.1"),
    minPoll: -2,
    delayGate: true,
  }]]);
  const r = replay(records, { params });
  const samples = r.events.filter((e) => e.kind === "sample");
  // Whole-second sample times shift the polls a little, so the last few replies may not be
  // asked for before the recording ends.
  assert.ok(samples.length >= 0.9 * records.length, `${samples.length} of ${records.length}`);
  const differing = samples.filter((s) => s.kind === "sample" && s.accepted !== s.recorded);
  assert.ok(differing.length <= 0.1 * samples.length, `${differing.length} verdicts differ`);
  const c = compareUpdates(recorded, r.events);
  assert.ok(Math.abs(c.replayed - c.recorded) <= 0.1 * c.recorded, JSON.stringify(c));
  assert.ok(c.medianDiff < 5e-6, JSON.stringify(c));
  console.log(
    `  replay from measurements.log: ${samples.length} of ${records.length} replies asked for, ` +
      `${differing.length} verdicts differ; ${JSON.stringify(c)}`,
  );
});

Deno.test("without delaygate the same recording replays with chrony's tests alone", () => {
  // What the run would have been with chrony's tests only: the congested replies are still
  // held back (test C), most of the LAN replies the gate held back are taken.
  const recording = parseSampleRecords(Deno.readTextFileSync(new URL("samples.jsonl", LOGS)));
  const records = recording.entries;
  const params = new Map([["127.0.0.1", {
    ...inferredParams(records, "127.0.0.1"),
    minPoll: -2,
  }]]);
  const r = replay(records, {
    exactTimes: true,
    localPrecision: recording.precision ?? undefined,
    params,
  });
  const samples = r.events.filter((e) => e.kind === "sample");
  const congested = samples.filter((s) => s.kind === "sample" && s.delay > 0.01);
  assert.ok(congested.length >= 5 && congested.every((s) => s.kind === "sample" && !s.accepted));
  const held = samples.filter((s) => s.kind === "sample" && !s.accepted).length;
  const recordedHeld = samples.filter((s) => s.kind === "sample" && !s.recorded).length;
  assert.ok(held < recordedHeld / 2, `${held} held back without the gate, ${recordedHeld} with`);
  console.log(`  without delaygate: ${held} of ${samples.length} held back`);
});

Deno.test("rejections name the failed tests; an unanswered poll is reported", () => {
  assert.deepEqual(failedTests(0x3ff), []);
  assert.deepEqual(failedTests(0x3ff & ~(1 << 8)), [
    "test C (delay jump above maxdelaydevratio)",
  ]);
  const t = 1_780_000_000;
  const records = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 100, 102].map((dt, i) => ({
    t: t + dt,
    source: "192.0.2.1",
    offset: i === 8 ? 0.5 : 1e-4,
    delay: i === 8 ? 0.9 : 1e-3,
    valid: true,
    poll: 1,
  }));
  // Trying a configuration change on recorded traffic: maxdelay 0.1 rejects the slow sample.
  const params = { ...inferredParams(records, "192.0.2.1"), maxDelay: 0.1 };
  const r = replay(records, { params: new Map([["192.0.2.1", params]]) });
  const samples = r.events.filter((e) => e.kind === "sample");
  const big = samples.find((e) => e.kind === "sample" && e.delay === 0.9);
  assert.ok(big && big.kind === "sample" && !big.accepted, JSON.stringify(big));
  assert.ok(big.why.includes("failed test A (delay above maxdelay)"), big.why.join("; "));
  assert.equal(samples.filter((e) => e.kind === "sample" && e.accepted).length, 11);
  assert.ok(r.events.some((e) => e.kind === "unanswered"), "the gap left polls unanswered");
});

Deno.test("exact times: the second pass starts earlier by the engine's start-up delay", () => {
  // Samples every 0.5 s over a 1.2 ms round trip. With exact (recorded) times the first
  // request must go out when the original's did, so that the first sample lands on its
  // recorded time: the engine's start-up delay (0.2 s here) is found by a first pass and taken
  // off the start of the second. Before, the second pass ignored it and repeated the first.
  const t = 1_780_000_000.123456;
  const records = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5].map((dt) => ({
    t: t + dt,
    source: "192.0.2.1",
    offset: 1e-4,
    delay: 1.2e-3,
    valid: true,
    poll: -1,
  }));
  const r = replay(records, { exactTimes: true });
  const first = r.events.find((e) => e.kind === "sample");
  assert.ok(first !== undefined);
  assert.ok(Math.abs(first.t - records[0].t) < 1e-5, `${first.t} vs ${records[0].t}`);
});

Deno.test("exact times: each reply is measured when the original's was and handled when it was", () => {
  // A daemon polling every 0.5 s, lengthened by a random 0-2% as chrony does, took each
  // sample (midway through a 1.2 ms round trip plus 40 us at the server) and handled it 4-9 ms
  // later. The replay's requests must go out as the original's did: every sample is handled at
  // its recorded time, and a later one is never drawn earlier by the engine's own schedule.
  const rnd = new SimRandom(7);
  const t0 = 1_780_000_000_000_000_000n;
  let at = t0;
  const records = Array.from({ length: 24 }, (_, i) => {
    if (i > 0) at += BigInt(Math.round(0.5e9 * (1 + 0.02 * rnd.next())));
    const handled = at + BigInt(Math.round(4e6 + 5e6 * rnd.next()));
    return {
      t: Number(handled) / 1e9,
      sampleTime: at,
      responseTime: 4e-5,
      source: "192.0.2.1",
      offset: 1e-6 + 2e-7 * rnd.next(),
      delay: 1.2e-3,
      valid: true,
      poll: -1,
    };
  });
  const r = replay(records, { exactTimes: true, localPrecision: 5e-7 });
  const samples = r.events.filter((e) => e.kind === "sample");
  assert.equal(samples.length, records.length);
  assert.equal(r.unused, 0);
  samples.forEach((s, i) => {
    assert.ok(s.kind === "sample" && s.accepted, formatEvent(s));
    // Virtual time against the recorded (cooked) time: the engine's clock drifts from it by
    // up to 70 us here, since these made-up offsets never follow its corrections; a reply
    // handled when it arrived would be 4-9 ms early, a poll of the engine's own up to 10 ms.
    assert.ok(Math.abs(s.t - records[i].t) < 1e-4, `${i}: ${s.t} vs ${records[i].t}`);
    // The engine's own sample time, on its cooked clock as the recorded one was: the same
    // instant (within a double's 0.24 us at this epoch), so the request went out when the
    // original's did.
    const recorded = Number(records[i].sampleTime) / 1e9;
    assert.ok(
      s.kind === "sample" && s.sampleTime !== undefined &&
        Math.abs(s.sampleTime - recorded) < 1e-6,
      `${i}: sample time ${s.kind === "sample" && s.sampleTime} vs ${recorded}`,
    );
  });
  // A recording without sample times (before they were written) replays as it always did:
  // each reply arrives the delay after the engine's own request, and is handled then.
  const old = replay(records.map(({ sampleTime: _, responseTime: __, ...r }) => r), {
    exactTimes: true,
    localPrecision: 5e-7,
  });
  const oldSamples = old.events.filter((e) => e.kind === "sample");
  assert.equal(oldSamples.length, records.length);
  assert.ok(
    oldSamples.some((s, i) => Math.abs(s.t - records[i].t) > 1e-3),
    "an old recording is not moved onto the original's timeline",
  );
});
