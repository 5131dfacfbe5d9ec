import assert from "node:assert/strict";
import { silentLog } from "../base/ports.ts";
import { PhcDevice } from "../../ffi/phc.ts";
import type { RtcDevice } from "../clock/rtc.ts";
import { FakePhcKernel } from "../../tests/helpers/fake_phc.ts";
import { openPhcRefclock, phcDevicePath } from "./phc_driver.ts";
import { openRtcRefclock } from "./rtc_driver.ts";

Deno.test("PHC driver: a path as it is, an interface through its PHC index", () => {
  assert.equal(phcDevicePath("/dev/ptp3"), "/dev/ptp3");
  assert.equal(phcDevicePath("eth0", (i) => (i === "eth0" ? 2 : null)), "/dev/ptp2");
  assert.throws(() => phcDevicePath("lo", () => null), /no PTP hardware clock/);
});

Deno.test({
  name: "PHC driver: samples from a fake kernel (PHC 37 s ahead); a vanished device comes back",
  sanitizeOps: false,
  async fn() {
    const k = new FakePhcKernel();
    const got: [bigint, number][] = [];
    const lines: string[] = [];
    const log = { log: (_l: string, m: string) => void lines.push(m) };
    const h = openPhcRefclock(
      () => PhcDevice.open("/dev/ptp0", false, k),
      -5,
      (t, o) => got.push([t, o]),
      log,
      "refclock PHC /dev/ptp0",
    );
    const tick = () => new Promise((r) => setTimeout(r, 80));
    try {
      await tick();
      assert.ok(got.length >= 1);
      // precise: one reading, sys 1000 ns, phc 37 s + 1050 ns.
      assert.deepEqual(got[0], [1000n, 37.00000005]);
      k.present = false;
      await tick();
      assert.ok(lines.some((l) => /device lost/.test(l)), lines.join("\n"));
      assert.equal(k.openFds, 0);
      const before = got.length;
      k.present = true;
      await tick();
      assert.ok(lines.some((l) => /device back/.test(l)));
      assert.ok(got.length > before);
    } finally {
      h.close();
    }
    assert.equal(k.openFds, 0);
  },
});

/** A fake RTC: its second changes every `periodMs`; `interrupts` false makes UIE fail. */
class FakeRtc implements RtcDevice {
  readonly path = "/dev/rtc0";
  readonly utc = true;
  closed = false;
  constructor(
    public seconds: number,
    public interrupts: boolean,
    public gone: { value: boolean },
  ) {}
  readTime(): number {
    if (this.gone.value) throw new Error("read: ENODEV");
    return this.seconds;
  }
  setTime(): void {}
  async waitForUpdate(): Promise<boolean> {
    if (!this.interrupts) throw new Error("ioctl(RTC_UIE_ON): EINVAL");
    if (this.gone.value) throw new Error("poll: ENODEV");
    await new Promise((r) => setTimeout(r, 20));
    this.seconds++;
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

Deno.test({
  name: "RTC driver: each update interrupt is a sample at the RTC's new second",
  sanitizeOps: false,
  async fn() {
    const gone = { value: false };
    const rtc = new FakeRtc(1_000, true, gone);
    let now = 1_000_300_000_000n;
    const got: [bigint, number][] = [];
    const lines: string[] = [];
    const h = openRtcRefclock(
      0,
      (t, o) => got.push([t, o]),
      {
        log: (_l, m) => void lines.push(m),
      },
      "refclock RTC /dev/rtc0",
      {
        open: () => rtc,
        now: () => (now += 1_000_000_000n),
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    // The system time at the interrupt is 0.3 s past the RTC's new second.
    assert.ok(got.length >= 2, `${got.length}`);
    for (const [, o] of got) assert.ok(Math.abs(o + 0.3) < 1e-9, `${o}`);
    gone.value = true;
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.some((l) => /device lost/.test(l)), lines.join("\n"));
    assert.ok(rtc.closed);
    h.close();
    await h.done;
  },
});

Deno.test({
  name: "RTC driver: without update interrupts it polls, the RTC's time taken mid-second",
  sanitizeOps: false,
  async fn() {
    const rtc = new FakeRtc(2_000, false, { value: false });
    const got: number[] = [];
    const lines: string[] = [];
    const h = openRtcRefclock(
      0,
      (_t, o) => got.push(o),
      { log: (_l, m) => void lines.push(m) },
      "rtc",
      {
        open: () => rtc,
        now: () => 2_000_100_000_000n,
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    h.close();
    await h.done;
    assert.ok(lines.some((l) => /falling back to polling/.test(l)));
    assert.ok(got.length >= 2);
    for (const o of got) assert.ok(Math.abs(o - 0.4) < 1e-9, `${o}`);
  },
});

Deno.test("RTC driver: a device that cannot be opened fails at start", () => {
  assert.throws(() =>
    openRtcRefclock(0, () => {}, silentLog, "rtc", {
      open: () => {
        throw new Error("no such RTC device");
      },
      now: () => 0n,
      sleep: () => Promise.resolve(),
    }), /no such RTC/);
});
