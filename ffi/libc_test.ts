import assert from "node:assert/strict";
import { hasCapability, hasCapSysTime, parseCapEff } from "./caps.ts";
import { ErrnoError } from "./errno.ts";
import { adjtimex, clockGettime, libcAvailable, O_RDONLY, openPath } from "./libc.ts";
import { STA_NANO, TIME_ERROR } from "./timex.ts";
import { CLOCK_MONOTONIC, CLOCK_REALTIME, decodeTimespec, encodeTimespec } from "./timespec.ts";

const noLibc = !libcAvailable();

Deno.test("timespec normalises negative nanoseconds", () => {
  const bytes = encodeTimespec(-1_500_000_000n);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getBigInt64(0, true), -2n);
  assert.equal(v.getBigInt64(8, true), 500_000_000n);
  assert.equal(decodeTimespec(bytes), -1_500_000_000n);
});

Deno.test("parseCapEff reads the CapEff line", () => {
  const text = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000002000000\n";
  const set = parseCapEff(text);
  assert.equal(set, 0x2000000n);
  assert.equal(hasCapability(set!, 25), true);
  assert.equal(hasCapability(set!, 24), false);
  assert.equal(parseCapEff("nothing"), null);
});

Deno.test({
  name: "clock_gettime(CLOCK_REALTIME) agrees with Date.now within 1 s",
  ignore: noLibc,
  fn() {
    const ns = clockGettime(CLOCK_REALTIME);
    assert.ok(Math.abs(Number(ns / 1_000_000n) - Date.now()) < 1000);
    const m1 = clockGettime(CLOCK_MONOTONIC);
    const m2 = clockGettime(CLOCK_MONOTONIC);
    assert.ok(m2 >= m1);
  },
});

Deno.test({
  name: "adjtimex read (modes 0) returns a sane tick and status",
  ignore: noLibc,
  fn() {
    const { state, timex } = adjtimex({ modes: 0 });
    assert.ok(state >= 0 && state <= TIME_ERROR, `state ${state}`);
    assert.ok(timex.tick >= 9000 && timex.tick <= 11000, `tick ${timex.tick}`);
    assert.ok(Math.abs(timex.freq / 65536) <= 500, `freq ${timex.freq}`);
    assert.equal(timex.status & ~0xffff, 0);
    assert.ok(typeof (timex.status & STA_NANO) === "number");
  },
});

Deno.test({
  name: "a failing call throws ErrnoError with the errno name",
  ignore: noLibc,
  fn() {
    assert.throws(() => openPath("/nonexistent/tempus-test", O_RDONLY), (e: unknown) => {
      assert.ok(e instanceof ErrnoError);
      assert.equal(e.code, "ENOENT");
      assert.match(e.message, /ENOENT/);
      return true;
    });
  },
});

Deno.test({
  name: "hasCapSysTime agrees with the CapEff line of /proc/self/status",
  ignore: noLibc,
  fn() {
    const set = parseCapEff(Deno.readTextFileSync("/proc/self/status"));
    assert.notEqual(set, null);
    assert.equal(hasCapSysTime(), hasCapability(set!, 25));
  },
});
