import assert from "node:assert/strict";
import { isLiteral, SourceManager } from "./sources.ts";
import { DEFAULT_SOURCE_PARAMS } from "../config/defaults.ts";
import type { SourceConfig } from "../config/model.ts";
import { silentLog, type TimerPort } from "../base/ports.ts";

class FakeTimers implements TimerPort {
  pending: { delay: number; fn: () => void }[] = [];
  setTimer(delay: number, fn: () => void) {
    this.pending.push({ delay, fn });
    return this.pending.length;
  }
  cancelTimer() {}
}

function fakeSink() {
  const added: { id: number; address: string; name: string | null }[] = [];
  const removed: number[] = [];
  let next = 1;
  return {
    added,
    removed,
    addSource(_t: unknown, a: { address: string }, _p: unknown, name: string | null) {
      added.push({ id: next, address: a.address, name });
      return next++;
    },
    removeSource(id: number) {
      removed.push(id);
    },
  };
}

const pool = (maxSources: number): SourceConfig => ({
  type: "pool",
  name: "pool.example",
  params: { ...DEFAULT_SOURCE_PARAMS, maxSources },
  origin: "test:1",
});

Deno.test("pool adds up to maxsources distinct members", async () => {
  const sink = fakeSink();
  const manager = new SourceManager(
    sink,
    () => Promise.resolve(["192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.3"]),
    new FakeTimers(),
    silentLog,
  );
  await manager.add(pool(2)).resolved;
  assert.deepEqual(sink.added.map((a) => a.address), ["192.0.2.1", "192.0.2.2"]);
  assert.equal(manager.nameOf(1), "pool.example");
});

Deno.test("failed resolution is retried with backoff and counted as unresolved", async () => {
  const sink = fakeSink();
  const timers = new FakeTimers();
  let fail = true;
  const manager = new SourceManager(
    sink,
    () => fail ? Promise.reject(new Error("NXDOMAIN")) : Promise.resolve(["192.0.2.9"]),
    timers,
    silentLog,
  );
  await manager.add({ ...pool(1), type: "server", name: "ntp.example" }).resolved;
  assert.equal(manager.unresolvedCount, 1);
  assert.equal(timers.pending[0].delay, 28);
  fail = false;
  timers.pending[0].fn();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(manager.unresolvedCount, 0);
  assert.deepEqual(sink.added.map((a) => a.address), ["192.0.2.9"]);
});

Deno.test("replace swaps an unreachable member for a fresh address of the same name", async () => {
  const sink = fakeSink();
  let answer = ["192.0.2.1"];
  const manager = new SourceManager(
    sink,
    () => Promise.resolve(answer),
    new FakeTimers(),
    silentLog,
  );
  await manager.add(pool(1)).resolved;
  answer = ["192.0.2.1", "192.0.2.7"];
  assert.equal(await manager.replace(1), true);
  assert.deepEqual(sink.removed, [1]);
  assert.equal(sink.added.at(-1)?.address, "192.0.2.7");
  assert.equal(await manager.replace(99), false);
});

Deno.test("literal detection", () => {
  assert.ok(isLiteral("192.0.2.1"));
  assert.ok(isLiteral("::1"));
  assert.ok(!isLiteral("pool.ntp.org"));
});

const literal = (name: string, minpoll = 6): SourceConfig => ({
  type: "server",
  name,
  params: { ...DEFAULT_SOURCE_PARAMS, minPoll: minpoll },
  origin: "test:2",
});

Deno.test("a literal address already in use is not added again (chronyd NSR_AlreadyInUse)", async () => {
  const sink = fakeSink();
  const manager = new SourceManager(sink, (n) => Promise.resolve([n]), new FakeTimers(), silentLog);
  const first = manager.add(literal("192.0.2.1"));
  // Claimed at once, before the first add has resolved.
  const second = manager.add(literal("192.0.2.1", 8));
  assert.equal(first.present, false);
  assert.equal(second.present, true);
  await first.resolved;
  assert.equal(manager.add(literal("192.0.2.1")).present, true);
  const v6 = manager.add(literal("2001:db8::1"));
  assert.equal(v6.present, false);
  assert.equal(manager.add(literal("2001:0db8:0::1")).present, true, "same IPv6 address");
  await v6.resolved;
  assert.deepEqual(sink.added.map((a) => a.address), ["192.0.2.1", "2001:db8::1"]);
});

Deno.test("removeConfig removes what a configuration added, and its pending retries", async () => {
  const sink = fakeSink();
  const timers = new FakeTimers();
  let cancelled = 0;
  timers.cancelTimer = () => void cancelled++;
  const manager = new SourceManager(
    sink,
    (n) => n === "bad.example" ? Promise.reject(new Error("NXDOMAIN")) : Promise.resolve([n]),
    timers,
    silentLog,
  );
  const a = literal("192.0.2.1");
  const bad = { ...literal("x"), name: "bad.example" };
  await manager.add(a).resolved;
  await manager.add(bad).resolved;
  assert.equal(manager.unresolvedCount, 1);
  manager.removeConfig(a);
  manager.removeConfig(bad);
  assert.deepEqual(sink.removed, [1]);
  assert.equal(manager.unresolvedCount, 0);
  assert.equal(cancelled, 1);
  assert.equal(manager.has(a), false);
  // The address is free again.
  assert.equal(manager.add(literal("192.0.2.1")).present, false);
});
