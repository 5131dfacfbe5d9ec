/**
 * VM system tests, group "clock": one guest runs the RTC, clock-driver, leap-second and
 * boot-sync scenarios against a real Linux kernel (qemu TCG), and each test below asserts
 * the figures the guest measured. Skipped when qemu, a kernel or busybox is missing.
 */
import assert from "node:assert/strict";
import { type BootResult, bootVm, type ScenarioResult, vmSkipReason } from "./runner.ts";

const skip = vmSkipReason();
if (skip) console.log(skip);

/** The guest's RTC starts here (qemu -rtc base=). */
const RTC_BASE = "2031-05-06T07:08:09";
const RTC_BASE_SECONDS = Date.UTC(2031, 4, 6, 7, 8, 9) / 1000;

let boot: Promise<BootResult> | null = null;

function clockVm(): Promise<BootResult> {
  boot ??= bootVm({
    scenarios: ["rtc", "driver", "leap", "sync"],
    rtcBase: RTC_BASE,
    timeoutMs: 240_000,
  });
  return boot;
}

// deno-lint-ignore no-explicit-any
type Figures = ScenarioResult & Record<string, any>;

async function result(name: string): Promise<Figures> {
  const b = await clockVm();
  const r = b.results.get(name);
  assert.ok(r, `no result for ${name}; console tail:\n${b.console.slice(-3000)}`);
  assert.equal(r.error, undefined, `scenario ${name} failed: ${r.error}`);
  return r as Figures;
}

const opts = { ignore: skip !== null, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name: "vm clock: the guest boots and runs every scenario",
  async fn() {
    const b = await clockVm();
    assert.equal(b.timedOut, false, b.console.slice(-3000));
    assert.deepEqual([...b.results.keys()].sort(), ["driver", "leap", "rtc", "sync"]);
    console.log(
      `boot+scenarios ${Math.round(b.bootMs)} ms; /init at uptime ${b.guestInitUptime} s`,
    );
  },
});

Deno.test({
  ...opts,
  name: "vm clock: /dev/rtc0 reads the -rtc base, ticks once a second, can be set",
  async fn() {
    const r = await result("rtc");
    const expected = RTC_BASE_SECONDS + r.uptime;
    assert.ok(Math.abs(r.rtcAtStart - expected) <= 5, `RTC ${r.rtcAtStart} vs ${expected}`);
    assert.ok(Math.abs(r.systemAtStart - r.rtcAtStart) <= 2, "kernel hctosys took the RTC");
    assert.equal(r.intervals.length, 2, "three update interrupts");
    // Wake-up latency under TCG on a busy host jitters by a few hundred ms per edge.
    for (const dt of r.intervals) assert.ok(dt > 0.5 && dt < 1.5, `interrupt interval ${dt}`);
    const s = r.secondsAfterEdge as number[];
    assert.deepEqual(s, [s[0], s[0] + 1, s[0] + 2]);
    assert.equal(r.readBack, r.setTo);
    assert.equal(r.edgeAfterSet, true);
    assert.equal(r.afterEdge, r.setTo + 1);
    assert.match(r.missingError, /cannot open RTC \/dev\/rtc9: no such RTC device/);
  },
});

Deno.test({
  ...opts,
  name: "vm clock: LinuxClockDriver sets and reads back ±100 000 ppm via tick + freq",
  async fn() {
    const r = await result("driver");
    assert.equal(r.frequencies.length, 11);
    for (const f of r.frequencies) {
      assert.ok(Math.abs(f.kernel - f.set) < 0.01, `set ${f.set} read ${f.kernel}`);
      assert.ok(Math.abs(f.driver - f.set) < 0.01, `set ${f.set} driver ${f.driver}`);
      // whole 100 ppm ticks in tick, at most 1.5 ticks left in freq
      assert.ok(f.tick >= 9_000 && f.tick <= 11_000, `tick ${f.tick}`);
      assert.ok(Math.abs((f.tick - 10_000) * 100 - f.set) <= 150, `tick ${f.tick} for ${f.set}`);
      assert.ok(Math.abs(f.freq / 65536) <= 150, `freq ${f.freq}`);
    }
    for (const rate of r.rates) {
      // TCG's virtual TSC makes short rate measurements noisy (seen: +3..+15% at +50 000)
      const tol = 0.2 * Math.abs(rate.set) + 100;
      assert.ok(Math.abs(rate.measured - rate.set) < tol, `rate ${rate.measured} for ${rate.set}`);
    }
    console.log("measured rates (ppm):", JSON.stringify(r.rates));
  },
});

Deno.test({
  ...opts,
  name: "vm clock: ADJ_SETOFFSET steps ±1 h; PLL off; leap bits; esterror/maxerror",
  async fn() {
    const r = await result("driver");
    for (const s of r.steps) {
      assert.ok(Math.abs(s.seen - s.step) < 0.01, `step ${s.step} seen ${s.seen}`);
    }
    assert.equal(r.pllBefore, true);
    assert.equal(r.pllAfterInit, false);
    assert.equal(r.unsyncAfterInit, true);
    assert.deepEqual(r.leap.insert, { ins: true, del: false, tai: 37 });
    assert.deepEqual(r.leap.delete, { ins: false, del: true });
    assert.deepEqual(r.leap.none, { ins: false, del: false });
    const other = r.syncStatus.otherProcess;
    assert.equal(other.esterror, 123);
    assert.ok(other.maxerror >= 45_600 && other.maxerror <= 47_600, `maxerror ${other.maxerror}`);
    assert.equal(other.status & 0x40, 0x40, "STA_UNSYNC stays set without clearUnsync");
    console.log("step durations (ms):", r.steps.map((s: { ms: number }) => s.ms).join(" "));
  },
});

Deno.test({
  ...opts,
  name: "vm clock: the kernel inserts a leap second armed by setLeap",
  async fn() {
    const r = await result("leap");
    assert.equal(r.armedIns, true);
    assert.deepEqual(r.states.filter((s: string) => s !== "TIME_OK"), [
      "TIME_INS",
      "TIME_OOP",
      "TIME_WAIT",
    ]);
    assert.equal(r.wentBack, true, "23:59:59 repeated (23:59:60)");
    assert.ok(Math.abs(r.realMinusMonoChange + 1) < 0.005, `change ${r.realMinusMonoChange}`);
    assert.equal(r.taiAfter, r.taiBefore + 1);
    assert.match(r.endWall, /^2027-07-01T00:00:0/);
  },
});

Deno.test({
  ...opts,
  name: "vm clock: tempus sync at boot steps a clock 1 h off onto the reference",
  async fn() {
    const r = await result("sync");
    assert.ok(Math.abs(r.aligned) < 0.001, `aligned ${r.aligned}`);
    assert.ok(Math.abs(r.before - 3600) < 0.01, `before ${r.before}`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(Math.abs(r.after) < 0.010, `true offset after sync ${r.after}`);
    assert.equal(r.report?.action, "step");
    assert.ok(r.measuredAfter > 0 && r.measuredAfter < r.runSeconds, `${r.measuredAfter}`);
    console.log(
      `sync: offset after ${(r.after * 1000).toFixed(3)} ms; run ${r.runSeconds} s ` +
        `(deno startup alone ${r.startupSeconds} s; last reply after ${r.measuredAfter} s)`,
    );
  },
});
