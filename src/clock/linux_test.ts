import assert from "node:assert/strict";
import { ErrnoError } from "../../ffi/errno.ts";
import type { AdjtimexResult } from "../../ffi/libc.ts";
import {
  ADJ_ESTERROR,
  ADJ_FREQUENCY,
  ADJ_MAXERROR,
  ADJ_NANO,
  ADJ_OFFSET_SINGLESHOT,
  ADJ_SETOFFSET,
  ADJ_STATUS,
  ADJ_TICK,
  emptyTimex,
  MOD_OFFSET,
  MOD_STATUS,
  MOD_TAI,
  STA_DEL,
  STA_INS,
  STA_PLL,
  STA_UNSYNC,
  type Timex,
} from "../../ffi/timex.ts";
import type { KernelClockOps } from "./kernel_ops.ts";
import {
  CLOCK_PERMISSION_MESSAGE,
  clockPermissionError,
  frequencyToTickFreq,
  LinuxClockDriver,
  tickFreqToFrequency,
} from "./linux.ts";
import { hasCapSysTime } from "../../ffi/caps.ts";

/** A fake kernel: records every adjtimex call and keeps tick/freq/status like Linux. */
class FakeKernel implements KernelClockOps {
  calls: Partial<Timex>[] = [];
  state = emptyTimex();
  realtime = 1_700_000_000_000_000_000n;
  settime: bigint[] = [];
  failSetOffset: string | null = null;

  constructor() {
    this.state.tick = 10_000;
    this.state.status = STA_PLL;
  }

  adjtimex(tx: Partial<Timex>): AdjtimexResult {
    this.calls.push({ ...tx });
    const modes = tx.modes ?? 0;
    if (modes & ADJ_SETOFFSET && this.failSetOffset) {
      throw new ErrnoError("clock_adjtime", this.failSetOffset === "EINVAL" ? 22 : 1);
    }
    if (modes === ADJ_OFFSET_SINGLESHOT) {
      const old = this.state.offset;
      this.state.offset = tx.offset ?? 0;
      return { state: 0, timex: { ...this.state, offset: old } };
    }
    if (modes & ADJ_TICK) this.state.tick = tx.tick!;
    if (modes & ADJ_FREQUENCY) this.state.freq = tx.freq!;
    if (modes & ADJ_STATUS) this.state.status = tx.status!;
    return { state: 5, timex: { ...this.state } };
  }
  clockGettime(): bigint {
    return this.realtime;
  }
  clockSettime(_id: number, ns: bigint): void {
    this.settime.push(ns);
  }
}

Deno.test("initialisation cancels adjtime and switches the kernel PLL off", () => {
  const k = new FakeKernel();
  new LinuxClockDriver({ ops: k });
  assert.deepEqual(k.calls[0], { modes: ADJ_OFFSET_SINGLESHOT, offset: 0 });
  assert.equal(k.calls[1].modes, MOD_OFFSET | MOD_STATUS);
  assert.equal(k.calls[1].offset, 0);
  assert.equal(k.calls[2].modes, MOD_STATUS);
  assert.equal(k.calls[2].status! & STA_PLL, 0);
  assert.equal(k.calls[2].status! & STA_UNSYNC, STA_UNSYNC);
  assert.equal(k.state.status & STA_PLL, 0);
});

Deno.test("±50 000 ppm goes to tick with the remainder in freq", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  k.calls = [];
  assert.equal(d.setFrequencyPpm(50_000), 50_000);
  assert.deepEqual(k.calls[0], { modes: ADJ_TICK | ADJ_FREQUENCY, tick: 10_500, freq: 0 });
  const applied = d.setFrequencyPpm(-50_012.5);
  assert.deepEqual(k.calls[1], {
    modes: ADJ_TICK | ADJ_FREQUENCY,
    tick: 9_500,
    freq: Math.round(-12.5 * 65536),
  });
  assert.ok(Math.abs(applied + 50_012.5) < 1e-4);
  assert.ok(Math.abs(d.readFrequencyPpm() + 50_012.5) < 1e-4);
});

Deno.test("frequency is clamped to ±100 000 ppm and small values stay in freq", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  assert.equal(d.maxFrequencyPpm, 100_000);
  assert.equal(d.setFrequencyPpm(250_000), 100_000);
  assert.equal(k.state.tick, 11_000);
  assert.equal(d.setFrequencyPpm(-1e9), -100_000);
  assert.equal(k.state.tick, 9_000);
  d.setFrequencyPpm(0);
  assert.equal(d.setFrequencyPpm(37.25), 37.25);
  assert.equal(k.state.tick, 10_000);
  assert.equal(k.state.freq, 37.25 * 65536);
});

Deno.test("an adjacent tick is kept to avoid thrashing", () => {
  const s = frequencyToTickFreq(140, 10_000, 0);
  assert.equal(s.tick, 10_000);
  assert.equal(s.freq, 140 * 65536);
  const t = frequencyToTickFreq(260, 10_000, 0);
  assert.equal(t.tick, 10_003);
  assert.ok(Math.abs(t.appliedPpm - 260) < 1e-4);
  assert.equal(tickFreqToFrequency(10_003, -40 * 65536, 10_000), 260);
});

Deno.test("a step uses ADJ_SETOFFSET|ADJ_NANO with normalised nanoseconds", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  k.calls = [];
  d.stepBy(3600);
  d.stepBy(-3600.25);
  assert.deepEqual(k.calls[0], { modes: ADJ_SETOFFSET | ADJ_NANO, timeSec: 3600, timeUsec: 0 });
  assert.deepEqual(k.calls[1], {
    modes: ADJ_SETOFFSET | ADJ_NANO,
    timeSec: -3601,
    timeUsec: 750_000_000,
  });
});

Deno.test("a step falls back to clock_settime on EINVAL but not on EPERM", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  k.failSetOffset = "EINVAL";
  d.stepBy(-1.5);
  assert.deepEqual(k.settime, [k.realtime - 1_500_000_000n]);
  k.failSetOffset = "EPERM";
  assert.throws(() => d.stepBy(1), (e: unknown) => e instanceof ErrnoError && e.code === "EPERM");
});

Deno.test("leap bits and the TAI offset are written with MOD_STATUS|MOD_TAI", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  k.calls = [];
  d.setLeap("insert", 37);
  assert.equal(k.calls[0].modes, MOD_STATUS | MOD_TAI);
  assert.equal(k.calls[0].constant, 37);
  assert.equal(k.calls[0].status! & (STA_INS | STA_DEL), STA_INS);
  d.setLeap("delete");
  assert.equal(k.calls[1].modes, MOD_STATUS);
  assert.equal(k.calls[1].status! & (STA_INS | STA_DEL), STA_DEL);
  d.setLeap("none");
  assert.equal(k.calls[2].status! & (STA_INS | STA_DEL), 0);
  assert.equal(k.calls[2].status! & STA_PLL, 0);
});

Deno.test("sync status sets esterror/maxerror; STA_UNSYNC cleared only with clearUnsync", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  k.calls = [];
  d.setSyncStatus(true, 0.000125, 0.0105);
  assert.deepEqual(k.calls[0], {
    modes: ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR,
    status: STA_UNSYNC,
    esterror: 125,
    maxerror: 10_500,
  });
  const k2 = new FakeKernel();
  const d2 = new LinuxClockDriver({ ops: k2, clearUnsync: true });
  d2.setLeap("insert");
  d2.setSyncStatus(true, 0.001, 0.02);
  assert.equal(k2.state.status, STA_INS);
  d2.setSyncStatus(true, 1, 20);
  assert.equal(k2.state.status, STA_INS | STA_UNSYNC);
  assert.equal(k2.calls.at(-1)!.maxerror, 16_000_000);
  d2.setSyncStatus(false, 0, 0);
  assert.equal(k2.calls.at(-1)!.esterror, 16_000_000);
});

Deno.test("singleShotSlew sends µs and returns what was pending", () => {
  const k = new FakeKernel();
  const d = new LinuxClockDriver({ ops: k });
  assert.equal(d.singleShotSlew(0.25), 0);
  assert.equal(k.calls.at(-1)!.offset, 250_000);
  assert.equal(d.singleShotSlew(-0.001), 0.25);
});

Deno.test("clockPermissionError matches CAP_SYS_TIME", () => {
  const msg = clockPermissionError();
  if (hasCapSysTime()) assert.equal(msg, null);
  else assert.equal(msg, CLOCK_PERMISSION_MESSAGE);
  assert.equal(
    CLOCK_PERMISSION_MESSAGE,
    "tempus needs root or CAP_SYS_TIME to set the clock; use --dry-run to only measure",
  );
});
