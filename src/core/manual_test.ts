import assert from "node:assert/strict";
import { MANUAL_MAX_SAMPLES, ManualInput } from "./manual.ts";
import { addSeconds, type Instant } from "../base/time.ts";

const T0: Instant = 1_700_000_000n * 1_000_000_000n;

Deno.test("disabled input refuses settime", () => {
  const m = new ManualInput({ enabled: false });
  const r = m.accept(T0, addSeconds(T0, 1), 0);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.status, "notenabled");
  m.enable();
  assert.equal(m.accept(T0, addSeconds(T0, 1), 0).ok, true);
});

Deno.test("first entry slews by the entered offset with no frequency change", () => {
  const m = new ManualInput({ enabled: true });
  const r = m.accept(T0, addSeconds(T0, 2.5), 10);
  assert.ok(r.ok);
  assert.equal(r.update.offset, 2.5);
  assert.equal(r.update.freqPpm, 0);
  assert.equal(r.update.frequencyKnown, false);
  assert.equal(r.report.newFreqPpm, 10);
  assert.equal(m.list()[0].origOffset, 2.5);
});

Deno.test("two entries give the frequency; the offset is the latest entered", () => {
  const m = new ManualInput({ enabled: true });
  m.accept(T0, T0, 0);
  // 1000 s later the clock is 50 ms behind: 50 ppm slow, needs +50 ppm.
  const now = addSeconds(T0, 1000);
  const r = m.accept(now, addSeconds(now, 0.05), 0);
  assert.ok(r.ok);
  assert.ok(Math.abs(r.update.freqPpm - 50) < 1e-6, `freq ${r.update.freqPpm}`);
  assert.equal(r.update.offset, 0.05);
  assert.ok(Math.abs(r.report.dfreqPpm - 50) < 1e-6);
});

Deno.test("entries too close together are refused; at most 16 kept", () => {
  const m = new ManualInput({ enabled: true });
  m.accept(T0, T0, 0);
  const r = m.accept(addSeconds(T0, 0.5), T0, 0);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.status, "badsample");
  for (let i = 1; i < 30; i++) m.accept(addSeconds(T0, i * 10), addSeconds(T0, i * 10), 0);
  assert.equal(m.sampleCount, MANUAL_MAX_SAMPLES);
});

Deno.test("robust regression ignores one mistyped entry; delete and reset", () => {
  const m = new ManualInput({ enabled: true });
  for (let i = 0; i < 7; i++) {
    const now = addSeconds(T0, i * 600);
    const typo = i === 3 ? 30 : 0;
    m.accept(now, addSeconds(now, 20e-6 * i * 600 + typo), 0);
  }
  const list = m.list();
  assert.equal(list.length, 7);
  assert.ok(Math.abs(list[3].residual - 30) < 0.01, `residual ${list[3].residual}`);
  const d = m.delete(3, addSeconds(T0, 4000), 0);
  assert.ok(d.ok);
  assert.ok(Math.abs(d.update.freqPpm - 20) < 0.01, `freq ${d.update.freqPpm}`);
  assert.equal(m.delete(10, T0, 0).ok, false);
  m.reset();
  assert.equal(m.sampleCount, 0);
});

Deno.test("clock changes slew the samples; unknown steps reset them", () => {
  const m = new ManualInput({ enabled: true });
  m.accept(T0, addSeconds(T0, 1), 0);
  m.applyClockChange({ when: T0, dfreq: 0, doffset: 1, kind: "step" });
  const s = m.list()[0];
  assert.equal(s.slewedOffset, 0);
  assert.equal(s.origOffset, 1);
  assert.equal(s.when, addSeconds(T0, 1));
  m.applyClockChange({ when: T0, dfreq: 0, doffset: 5, kind: "unknown" });
  assert.equal(m.sampleCount, 0);
});
