import assert from "node:assert/strict";
import { defaultConfig } from "../../config/defaults.ts";
import { parseRefclockArgs } from "../../config/refclock_options.ts";
import type { RefclockConfig } from "../../config/model.ts";
import { FakeDriver, VirtualScheduler } from "../../../tests/helpers/discipline_testing.ts";
import { Engine } from "../engine/engine.ts";
import { refIdFromAscii } from "../../ntp/packet.ts";

function refclock(args: string): RefclockConfig {
  const r = parseRefclockArgs(args.split(" "));
  if (!r.ok) throw new Error(r.error);
  return r.refclock;
}

/** An engine with one refclock fed every second by a device reading true time plus noise. */
function simulate(opts: {
  rc: string;
  seconds: number;
  outliers?: boolean;
  silent?: boolean;
  bias?: number;
  tai?: number | null;
}) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: 0.05, error: 20e-6 });
  const lines: string[] = [];
  const engine = new Engine(
    { ...defaultConfig(), clockPrecision: 1e-8 },
    {
      driver,
      timers: sched,
      random: { fill: (b: Uint8Array) => void b.fill(1), next: () => 0.5 },
      log: { log: (_l: string, m: string) => lines.push(m) },
    },
  );
  if (opts.tai !== undefined) engine.refclockTaiOffset = () => opts.tai ?? null;
  const id = engine.addRefclock(refclock(opts.rc), "GPS");
  engine.start({ send: () => false });
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let t = 1; t <= opts.seconds; t++) {
    sched.runUntil(t - 0.5);
    if (opts.silent) continue;
    const raw = driver.readRawTime();
    let offset = Number(driver.trueNow() - raw) / 1e9 + (rnd() - 0.5) * 2e-6;
    if (opts.outliers && t % 11 === 0) offset += 0.3;
    offset += opts.bias ?? 0;
    engine.refclockSample(id, raw, offset, 0);
  }
  sched.runUntil(opts.seconds);
  return { engine, driver, id, lines };
}

Deno.test("refclock source: selected, stratum 1, refid GPS, and the clock follows it", () => {
  const { engine, driver } = simulate({ rc: "SOCK /run/x.sock refid GPS poll 2", seconds: 600 });
  const t = engine.tracking();
  assert.equal(t.stratum, 1);
  assert.equal(t.refId, refIdFromAscii("GPS"));
  const rows = engine.sources();
  assert.equal(rows[0].mode, "refclock");
  assert.equal(rows[0].address, "GPS");
  assert.equal(rows[0].state, "selected");
  assert.equal(rows[0].reachability, 0xff);
  assert.ok(Math.abs(driver.clockError()) < 0.05, `started 50 ms off, now ${driver.clockError()}`);
  assert.ok(engine.referenceState().synchronised);
});

Deno.test("refclock source: 0.3 s outliers every 11th second do not pull the clock", () => {
  const rc = "SHM 0 refid GPS poll 3";
  const noisy = simulate({ rc, seconds: 900, outliers: true });
  const clean = simulate({ rc, seconds: 900 });
  assert.equal(noisy.engine.sources()[0].state, "selected");
  // The filter drops them: the latest filtered offset and the clock stay where a clean
  // device puts them (one 0.3 s error averaged into a poll of 8 would be 37 ms).
  const last = noisy.engine.sources()[0].latestOffset;
  assert.ok(Math.abs(last) < 1e-3, `latest offset ${last}`);
  const diff = noisy.driver.clockError() - clean.driver.clockError();
  assert.ok(Math.abs(diff) < 1e-3, `clock error differs by ${diff}`);
});

Deno.test("refclock source: with no samples it is never reached nor selected", () => {
  const { engine } = simulate({ rc: "SOCK /run/x.sock", seconds: 120, silent: true });
  const row = engine.sources()[0];
  assert.equal(row.reachability, 0);
  assert.notEqual(row.state, "selected");
  assert.equal(engine.referenceState().synchronised, false);
});

Deno.test("refclock source: bad device data is dropped, not thrown", () => {
  const { engine, id } = simulate({ rc: "SOCK /run/x.sock", seconds: 1, silent: true });
  engine.refclockSample(id, 1n, Number.NaN, 0);
  engine.refclockSample(id, 1n, 1e12, 0);
  engine.refclockSample(id, 1n, 0, 7);
  engine.refclockSample(999, 1n, 0, 0);
  const s = engine.source(id)!;
  assert.equal(s.counters.validRx, 0);
});

Deno.test("refclock source: stratum option and offset apply", () => {
  const { engine } = simulate({ rc: "SOCK /run/x.sock stratum 2 offset 0", seconds: 300 });
  assert.equal(engine.tracking().stratum, 3);
  assert.equal(engine.sources()[0].stratum, 2);
});

Deno.test("refclock source: tai takes TAI - UTC off; without a table the samples are dropped", () => {
  const rc = "SOCK /run/x.sock refid GPS poll 2 tai";
  const ok = simulate({ rc, seconds: 600, bias: 37, tai: 37 });
  assert.equal(ok.engine.sources()[0].state, "selected");
  assert.ok(Math.abs(ok.driver.clockError()) < 0.01, `clock error ${ok.driver.clockError()}`);
  const none = simulate({ rc, seconds: 60, bias: 37, tai: null });
  const s = none.engine.source(none.id)!;
  assert.equal(s.counters.validRx, 0);
  assert.equal(none.engine.referenceState().synchronised, false);
});

Deno.test("refclock source: under `pps` only the sub-second counts, and needs a lock or a sync", () => {
  // Alone and unsynchronised, the pulses have nothing to take their seconds from.
  const alone = simulate({ rc: "SOCK /run/x.sock pps poll 2", seconds: 60, bias: 3 });
  assert.equal(alone.engine.source(alone.id)!.counters.validRx, 0);
  assert.equal(alone.engine.referenceState().synchronised, false);
});

Deno.test("refclock source: a pulse locked to another refclock gets its seconds from it", () => {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: 0.05, error: 20e-6 });
  const engine = new Engine(
    { ...defaultConfig(), clockPrecision: 1e-8 },
    {
      driver,
      timers: sched,
      random: { fill: (b: Uint8Array) => void b.fill(1), next: () => 0.5 },
      log: { log: () => {} },
    },
  );
  const nmea = engine.addRefclock(refclock("SHM 0 refid NMEA noselect poll 2"), "NMEA");
  const pps = engine.addRefclock(refclock("PPS /dev/pps0 refid PPS lock NMEA poll 2"), "PPS");
  engine.start({ send: () => false });
  for (let t = 1; t <= 600; t++) {
    // The edge at the true second t; NMEA 0.3 s later, 0.1 s off (a bad offset option).
    sched.runUntil(t - 0.7);
    const edge = driver.readRawTime();
    engine.refclockPulse(pps, edge, Number(edge - driver.trueNow()) / 1e9);
    sched.runUntil(t - 0.4);
    const raw = driver.readRawTime();
    engine.refclockSample(nmea, raw, Number(driver.trueNow() - raw) / 1e9 - 0.1, 0);
  }
  sched.runUntil(601);
  const rows = engine.sources();
  assert.equal(rows.find((r) => r.address === "PPS")?.state, "selected");
  assert.equal(engine.tracking().refId, refIdFromAscii("PPS"));
  // The pulses hold the clock to the edges, not to NMEA's 0.1 s error.
  assert.ok(Math.abs(driver.clockError()) < 1e-3, `clock error ${driver.clockError()}`);
});

Deno.test("refclock source: a stale sample (older than two polls) or one from the future is dropped", () => {
  const { engine, id, driver } = simulate({ rc: "SHM 0 poll 2", seconds: 10 });
  const before = engine.source(id)!.counters.validRx;
  const raw = driver.readRawTime();
  engine.refclockSample(id, raw - 9_000_000_000n, 0, 0); // a stale SHM segment: 9 s > 2^3
  engine.refclockSample(id, raw + 5_000_000_000n, 0, 0); // 5 s ahead of now
  assert.equal(engine.source(id)!.counters.validRx, before);
  engine.refclockSample(id, raw - 200_000_000n, 0, 0); // 0.2 s old, after the last: fine
  assert.equal(engine.source(id)!.counters.validRx, before + 1);
});
