import assert from "node:assert/strict";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "../../src/ntp/packet.ts";
import { instantToNtp64, ntp64ToInstant } from "../../src/ntp/timestamp.ts";
import { computeSyncMetrics, recoveryTime } from "../../src/sim/metrics.ts";
import { SimPath } from "../../src/sim/network.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { runScenario } from "../../src/sim/scenario.ts";
import { SimClock } from "../../src/sim/sim_clock.ts";
import { SimServer } from "../../src/sim/sim_server.ts";
import { SimTimers } from "../../src/sim/sim_timers.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";
import { VirtualTime } from "../../src/sim/virtual_time.ts";
import { ToyEngine } from "./toy_engine.ts";

const T0 = 1_772_409_600n * 1_000_000_000n;

Deno.test("prng: deterministic per seed, sane normal and exponential moments", () => {
  const a = new SimRandom(42), b = new SimRandom(42), c = new SimRandom(43);
  const sa = [a.next(), a.next(), a.next()];
  assert.deepEqual(sa, [b.next(), b.next(), b.next()]);
  assert.notDeepEqual(sa, [c.next(), c.next(), c.next()]);
  const r = new SimRandom(7);
  let sum = 0, sq = 0, ex = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    sum += x;
    sq += x * x;
    ex += r.exponential();
  }
  assert.ok(Math.abs(sum / n) < 0.01, `normal mean ${sum / n}`);
  assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.01, `normal sd ${Math.sqrt(sq / n)}`);
  assert.ok(Math.abs(ex / n - 1) < 0.01, `exp mean ${ex / n}`);
  for (let i = 0; i < 1000; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
  }
  const bytes = new Uint8Array(7);
  r.fill(bytes);
  assert.ok(bytes.some((x) => x !== 0));
});

Deno.test("virtual time: events run in time then insertion order; cancel works", () => {
  const vt = new VirtualTime(T0);
  const order: string[] = [];
  vt.scheduleIn(2_000n, () => order.push("b"));
  vt.scheduleIn(1_000n, () => order.push("a"));
  vt.scheduleIn(2_000n, () => order.push("c"));
  const x = vt.scheduleIn(1_500n, () => order.push("x"));
  vt.cancel(x);
  vt.scheduleIn(5_000n, () => {
    order.push("d");
    vt.scheduleIn(0n, () => order.push("e"));
  });
  vt.runUntil(T0 + 4_000n);
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(vt.now, T0 + 4_000n);
  vt.runUntil(T0 + 10_000n);
  assert.deepEqual(order, ["a", "b", "c", "d", "e"]);
  assert.equal(vt.pendingCount, 0);
});

Deno.test("sim clock: frequency error, correction, steps, external steps, records", () => {
  const vt = new VirtualTime(T0);
  const clock = new SimClock(
    vt,
    { offset: 0.5, freq: 1e-4, steps: [{ at: 20, delta: -2 }] },
    30,
    null,
  );
  const tickTo = (k: number) =>
    vt.runUntil(T0 + BigInt(k) * 1_000_000_000n, (at) => {
      for (let s = 1; s <= k; s++) {
        const ns = T0 + BigInt(s) * 1_000_000_000n;
        if (ns <= at && clock.offsets[s] === 0) clock.tick(s, ns);
      }
    });
  tickTo(10);
  assert.ok(Math.abs(clock.error() - (0.5 + 10 * 1e-4)) < 1e-12);
  assert.ok(Math.abs(clock.offsets[10] - (0.5 + 1e-3)) < 1e-12);
  assert.ok(Math.abs(clock.freqErrors[5] - 1e-4) < 1e-15);
  // Correct the frequency exactly: (1 + 1e-4)(1 + f) = 1.
  const f = -1e-4 / (1 + 1e-4);
  assert.ok(Math.abs(clock.setFrequencyPpm(f * 1e6) - f * 1e6) < 1e-9);
  clock.stepBy(-0.501);
  assert.equal(clock.stepCount, 1);
  tickTo(19);
  assert.ok(Math.abs(clock.error()) < 1e-12, `error ${clock.error()}`);
  tickTo(25);
  assert.ok(Math.abs(clock.error() + 2) < 1e-9, "external step applied at 20 s");
  assert.equal(clock.setFrequencyPpm(500_000), 100_000, "clamped to maxFrequencyPpm");
  const raw = clock.readRawTime();
  assert.ok(raw < vt.now, "reading behind true time after the -2 s step");
});

Deno.test("sim clock: wander is a random walk of the right size", () => {
  const n = 10_000;
  const vt = new VirtualTime(T0);
  const clock = new SimClock(vt, { wander: 1e-9 }, n, new SimRandom(3));
  for (let k = 1; k <= n; k++) clock.tick(k, T0 + BigInt(k) * 1_000_000_000n);
  const f = clock.freqErrors[n];
  // After n steps the SD is 1e-9 * sqrt(n) = 1e-7; allow 5 sigma.
  assert.ok(Math.abs(f) < 5e-7, `walk ${f}`);
  assert.ok(clock.freqErrors.some((x) => Math.abs(x) > 1e-9), "the walk moved");
});

Deno.test("sim timers: local seconds fire after the true interval at the clock's rate", () => {
  const vt = new VirtualTime(T0);
  const clock = new SimClock(vt, { freq: 0.05 }, 10, null);
  const timers = new SimTimers(vt, clock);
  let firedAt: bigint | null = null;
  timers.setTimer(1.05, () => firedAt = vt.now);
  const h = timers.setTimer(0.5, () => assert.fail("cancelled timer fired"));
  timers.cancelTimer(h);
  vt.runUntil(T0 + 5_000_000_000n);
  assert.ok(firedAt !== null);
  assert.ok(Math.abs(Number(firedAt! - T0) / 1e9 - 1.0) < 1e-8, `fired ${firedAt! - T0}`);
});

Deno.test("network: delay distribution, asymmetry, loss, link windows, congestion, drops", () => {
  const path = new SimPath({ jitterAsymmetry: 0.47 }, new SimRandom(5));
  let up = 0, down = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    up += path.transit("up", i)!;
    down += path.transit("down", i)!;
  }
  assert.ok(Math.abs(up / n - (1e-4 + 1.47e-4)) < 3e-6, `up mean ${up / n}`);
  assert.ok(Math.abs(down / n - (1e-4 + 0.53e-4)) < 3e-6, `down mean ${down / n}`);

  const lossy = new SimPath({ loss: 0.25 }, new SimRandom(6));
  let lost = 0;
  for (let i = 0; i < 20_000; i++) if (lossy.transit("up", i) === null) lost++;
  assert.ok(Math.abs(lost / 20_000 - 0.25) < 0.02, `loss ${lost / 20_000}`);

  const link = new SimPath({ linkWindows: { period: 10_000, upFor: 1200 } }, new SimRandom(7));
  assert.notEqual(link.transit("up", 1199), null);
  assert.equal(link.transit("up", 1200), null);
  assert.equal(link.transit("down", 9999), null);
  assert.notEqual(link.transit("down", 10_100), null);

  const cong = new SimPath({
    congestion: [{ from: 100, to: 200, extraBase: 0.01, direction: "up" }],
  }, new SimRandom(8));
  assert.ok(cong.transit("up", 150)! >= 0.01);
  assert.ok(cong.transit("down", 150)! < 0.01);
  assert.ok(cong.transit("up", 250)! < 0.01);

  const every4 = new SimPath(
    { drop: (_t, dir, c) => dir === "up" && c % 4 !== 0 },
    new SimRandom(9),
  );
  const got = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => every4.transit("up", i) !== null);
  assert.deepEqual(got, [false, false, false, true, false, false, false, true]);
});

Deno.test("sim server: echoes the origin and stamps from its own clock", () => {
  const server = new SimServer({ offset: 2.0, stratum: 1 }, T0);
  const req = emptyPacket(NtpMode.Client);
  req.transmitTime = 0x1234_5678_9abc_def0n;
  req.poll = 6;
  const rxTrue = T0 + 100_000_000_000n;
  const reply = server.respond(encodePacket(req), rxTrue)!;
  const d = decodePacket(reply.bytes);
  assert.ok(d.ok);
  if (!d.ok) return;
  assert.equal(d.packet.mode, NtpMode.Server);
  assert.equal(d.packet.stratum, 1);
  assert.equal(d.packet.poll, 6);
  assert.equal(d.packet.originTime, req.transmitTime);
  // The low bit is 1 on every server receive timestamp (interleaved-mode flag, as chrony).
  assert.equal(d.packet.receiveTime, instantToNtp64(rxTrue + 2_000_000_000n) | 1n);
  const tx = ntp64ToInstant(d.packet.transmitTime, rxTrue);
  assert.ok(tx > rxTrue + 2_000_000_000n);
  assert.equal(server.respond(encodePacket(emptyPacket(NtpMode.Server)), rxTrue), null);
  assert.equal(server.respond(new Uint8Array(3), rxTrue), null);
});

Deno.test("metrics: sync time, reset at max_sync_time, recovery time", () => {
  const n = 400;
  const off = new Float64Array(n + 1), fr = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    off[k] = k < 150 ? 0.1 : 2e-4 * (k % 2 ? 1 : -1);
    fr[k] = k < 100 ? 1e-4 : 1e-6;
  }
  const limits = {
    timeMax: 1e-3,
    freqMax: 5e-4,
    timeRms: 3e-4,
    freqRms: 1e-5,
    minSyncTime: 120,
    maxSyncTime: 210,
  };
  const m = computeSyncMetrics(off, fr, limits);
  assert.equal(m.syncTime, 150);
  assert.ok(Math.abs(m.maxOffset - 2e-4) < 1e-15);
  assert.ok(Math.abs(m.rmsOffset - 2e-4) < 1e-15);
  assert.ok(Math.abs(m.rmsFreq - 1e-6) < 1e-15);
  off[n] = 1;
  assert.equal(computeSyncMetrics(off, fr, limits).syncTime, null);
  assert.equal(recoveryTime(off, 100, 1e-3, n - 1), 50);
});

Deno.test("scenario runner: closes the loop with a toy client, deterministically", () => {
  const spec = {
    name: "toy",
    duration: 2000,
    limits: { minSyncTime: 0 },
  };
  const run = () => runScenario(spec, (c, d) => new ToyEngine(c, d));
  const a = run();
  assert.ok(a.transport.sent > 100 && a.transport.received === a.transport.sent);
  assert.equal(a.serverRequests, a.transport.sent);
  assert.ok(a.metrics.syncTime !== null && a.metrics.syncTime < 210, `sync ${a.metrics.syncTime}`);
  assert.ok(a.metrics.maxOffset < 1e-3, `max ${a.metrics.maxOffset}`);
  assert.ok(a.logCounts["Selected source"] > 0);
  // The toy corrects the frequency, so its 16-s local timer soon counts true seconds.
  assert.ok(Math.abs(a.transport.meanOutInterval - 16) < 0.01, `${a.transport.meanOutInterval}`);
  const b = run();
  assert.deepEqual(b.metrics, a.metrics, "same seed, same figures");
  const c = runScenario({ ...spec, seed: 2 }, (cfg, d) => new ToyEngine(cfg, d));
  assert.notEqual(c.metrics.rmsOffset, a.metrics.rmsOffset);
});

Deno.test("scenario runner: a day of simulated time with a link outage stays cheap", () => {
  const r = runScenario({
    name: "toy day",
    duration: 86_400,
    servers: [{ path: { linkWindows: { period: 10_000, upFor: 1200 } } }],
  }, (c, d) => new ToyEngine(c, d));
  assert.ok(r.transport.received < r.transport.sent * 0.2, "most polls lost in outages");
  assert.ok(r.events > 5000);
});

Deno.test("scenario runner: scripted actions run at their second; log lines are timed", () => {
  const seen: number[] = [];
  const r = runScenario({
    name: "actions",
    duration: 100,
    clock: { offset: 0, freq: 0, wander: 0 },
    actions: [
      { at: 50, run: (ctx) => seen.push(ctx.seconds()) },
      { at: 70, run: (ctx) => ctx.clock.stepBy(0.5) },
    ],
  }, (c, d) => new ToyEngine(c, d));
  assert.deepEqual(seen, [50]);
  assert.ok(Math.abs(r.offsets[69]) < 1e-3 && r.offsets[71] !== r.offsets[69]);
  assert.ok(r.log.length > 0 && r.log[0].t > 0.2 && r.log[0].t < 1);
});

Deno.test("sim clock: an armed kernel leap inserts a second at the reading's UTC midnight", () => {
  const midnight = 1_230_768_000n * 1_000_000_000n; // 2009-01-01T00:00:00Z
  const vt = new VirtualTime(midnight - 10_000_000_000n);
  const clock = new SimClock(vt, { offset: 0, freq: 0 }, 20, null);
  clock.referenceOffset = (t) => t >= 10 ? -1 : 0;
  clock.setLeap("insert");
  vt.runUntil(midnight - 1n);
  clock.error();
  assert.equal(clock.leapsApplied, 0);
  vt.runUntil(midnight + 500_000_000n);
  clock.error();
  assert.equal(clock.leapsApplied, 1);
  assert.equal(clock.leap, "none");
  assert.equal(clock.readRawTime(), midnight - 500_000_000n, "23:59:60.5 reads as 23:59:59.5");
  clock.tick(11, midnight + 1_000_000_000n);
  assert.ok(Math.abs(clock.offsets[11]) < 1e-12, "in step with UTC after the leap");
});

Deno.test("sim server: announces an inserted leap the day before and repeats a second", () => {
  const server = new SimServer({ leapAt: 100_000 }, T0);
  const req = encodePacket(emptyPacket(NtpMode.Client));
  const before = decodePacket(server.respond(req, T0 + 10_000n * 1_000_000_000n)!.bytes);
  const during = decodePacket(server.respond(req, T0 + 90_000n * 1_000_000_000n)!.bytes);
  const after = decodePacket(server.respond(req, T0 + 100_001n * 1_000_000_000n)!.bytes);
  assert.ok(before.ok && during.ok && after.ok);
  if (!before.ok || !during.ok || !after.ok) return;
  assert.equal(before.packet.leap, 0);
  assert.equal(during.packet.leap, 1);
  assert.equal(after.packet.leap, 0);
  assert.equal(
    ntp64ToInstant(after.packet.receiveTime, T0),
    T0 + 100_000n * 1_000_000_000n,
    "one second behind true time after the leap",
  );
});

Deno.test("sim timers: re-planned when the rate changes; steps do not move them", () => {
  const vt = new VirtualTime(T0);
  const clock = new SimClock(vt, { freq: 0 }, 100, null);
  const timers = new SimTimers(vt, clock);
  let firedAt: bigint | null = null;
  timers.setTimer(10, () => firedAt = vt.now);
  vt.runUntil(T0 + 5_000_000_000n);
  clock.setFrequencyPpm(250_000); // clamped to +100 000 ppm: 10 % fast from 5 s on
  clock.stepBy(3);
  vt.runUntil(T0 + 20_000_000_000n);
  assert.ok(firedAt !== null);
  // 5 local s at rate 1, then 5 local s at rate 1.1: 5 + 5 / 1.1 true seconds.
  const t = Number(firedAt! - T0) / 1e9;
  assert.ok(Math.abs(t - (5 + 5 / 1.1)) < 1e-8, `fired at ${t}`);
  assert.equal(timers.pendingCount, 0);
});

Deno.test("scenario: cooked offsets add the engine's correction still to be slewed in", () => {
  // 10 ms off with no makestep: the first updates are slewed in over seconds, so at 1 s the
  // clock itself is still milliseconds off while the engine's cooked time is already close.
  const r = runScenario({
    name: "cooked",
    duration: 20,
    ticksPerSecond: 16,
    clock: { offset: 0.01, freq: 0, wander: 0 },
    sourceParams: { minPoll: -2, maxPoll: 0, iburst: true },
  }, tempusEngine);
  const cooked = r.cookedOffsets;
  assert.ok(cooked !== undefined);
  assert.equal(cooked.length, r.offsets.length);
  assert.equal(cooked[0], r.offsets[0]);
  const k = 16;
  assert.ok(Math.abs(r.offsets[k]) > 1e-3, `clock offset at 1 s ${r.offsets[k]}`);
  assert.ok(Math.abs(cooked[k]) < 2e-4, `cooked offset at 1 s ${cooked[k]}`);
});
