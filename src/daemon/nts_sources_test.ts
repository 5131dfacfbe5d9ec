import assert from "node:assert/strict";
import { parseChronyConfText } from "../config/chrony_conf.ts";
import type { Config } from "../config/model.ts";
import { ntsClientsFor, ntsSourceCount } from "./nts_sources.ts";
import type { NtsKeOptions, NtsKeResult } from "../nts/ke_client.ts";

const floor = Date.parse("2026-01-01T00:00:00Z") / 1000;

function config(lines: string[]): Config {
  const r = parseChronyConfText(lines.join("\n") + "\n", "t.conf");
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors));
  return r.config;
}

/** A fake engine recording minsources changes; `update()` is one clock update. */
function fakeEngine() {
  const engine = {
    minSources: [] as number[],
    onReferenceUpdated: null as ((update: never) => void) | null,
    setMinSources(n: number) {
      engine.minSources.push(n);
    },
    update() {
      engine.onReferenceUpdated?.(undefined as never);
    },
  };
  return engine;
}

function deps(now: number, logs: string[]) {
  return {
    exchange: (_o: NtsKeOptions): Promise<NtsKeResult> => Promise.reject(new Error("unused")),
    resolve: () => Promise.resolve([]),
    timers: { setTimer: () => 0, cancelTimer: () => {} },
    log: { log: (_l: string, m: string) => logs.push(m) },
    unixNow: () => now,
    timeFloor: floor,
  };
}

const three = ["server a.example nts", "server b.example nts", "pool p.example nts maxsources 2"];

Deno.test("NTS sources: counts NTS sources (a pool counts its maxsources)", () => {
  assert.equal(ntsSourceCount(config([...three, "server plain.example"])), 4);
  assert.equal(ntsSourceCount(config(["server plain.example"])), 0);
});

Deno.test("NTS sources: nocerttimecheck raises minsources to a majority until the updates pass", () => {
  const engine = fakeEngine();
  const logs: string[] = [];
  const nts = ntsClientsFor(config([...three, "nocerttimecheck 2"]), engine, deps(floor + 9, logs));
  assert.deepEqual(engine.minSources, [3]); // 4 NTS sources: 3 must agree
  assert.ok(nts.bootstrapping);
  engine.update();
  assert.deepEqual(engine.minSources, [3]);
  engine.update();
  assert.deepEqual(engine.minSources, [3, 1]);
  assert.equal(nts.bootstrapping, false);
  engine.update();
  assert.deepEqual(engine.minSources, [3, 1]);
  assert.ok(logs.some((l) => /3 sources must agree/.test(l)), logs.join("\n"));
});

Deno.test("NTS sources: a clock before the floor needs the quorum until the first update", () => {
  const engine = fakeEngine();
  const nts = ntsClientsFor(
    config(["server a.example nts", "server b.example nts", "minsources 1"]),
    engine,
    deps(1000, []),
  );
  assert.deepEqual(engine.minSources, [2]);
  engine.update();
  assert.deepEqual(engine.minSources, [2, 1]);
  assert.equal(nts.bootstrapping, false);
});

Deno.test("NTS sources: no change with a plausible clock, a higher minsources, or one NTS source", () => {
  for (
    const [lines, now] of [
      [three, floor + 9],
      [[...three, "nocerttimecheck 1", "minsources 4"], floor + 9],
    ] as [string[], number][]
  ) {
    const engine = fakeEngine();
    ntsClientsFor(config(lines), engine, deps(now, []));
    engine.update();
    assert.deepEqual(engine.minSources, [], lines.join("; "));
  }
  const engine = fakeEngine();
  const logs: string[] = [];
  ntsClientsFor(config(["server a.example nts", "nocerttimecheck 1"]), engine, deps(floor, logs));
  assert.deepEqual(engine.minSources, []);
  assert.ok(logs.some((l) => /One NTS source.*trusted alone/.test(l)), logs.join("\n"));
});
