/**
 * Scenario "driver": LinuxClockDriver against the guest's real kernel. Frequencies across
 * ±100 000 ppm set and read back (and the resulting clock rate measured against
 * CLOCK_MONOTONIC_RAW), steps of ±1 h, the kernel PLL switched off, leap bits, and
 * esterror/maxerror as seen by another process (busybox adjtimex).
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { MOD_STATUS, STA_DEL, STA_INS, STA_PLL, STA_UNSYNC } from "../../../ffi/timex.ts";
import { LinuxClockDriver, tickFreqToFrequency } from "../../../src/clock/linux.ts";
import { monotonicRaw, realMinusMono, realtime, round, sleep } from "./util.ts";

/** The frequencies set and read back. */
export const FREQUENCIES = [
  -100_000,
  -99_999.99,
  -50_012.5,
  -1_234.567,
  -0.001,
  0,
  37.25,
  149.99,
  12_345.678,
  99_999.5,
  100_000,
];

/** Sleeps in 10 ms steps so the guest kernel keeps ticking (and updates its timekeeping). */
async function awakeSleep(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) await sleep(10);
}

async function measureRatePpm(ms: number): Promise<number> {
  const r0 = realtime();
  const m0 = monotonicRaw();
  await awakeSleep(ms);
  const r1 = realtime();
  const m1 = monotonicRaw();
  return (Number(r1 - r0) / Number(m1 - m0) - 1) * 1e6;
}

function clocksource(): string {
  try {
    return Deno.readTextFileSync(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource",
    ).trim();
  } catch {
    return "unknown";
  }
}

async function otherProcessTimex(): Promise<Record<string, number>> {
  const out = await new Deno.Command("adjtimex", { stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const field = (name: string) => {
    const m = new RegExp(`${name}:\\s*(-?\\d+)`).exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    maxerror: field("maxerror"),
    esterror: field("esterror"),
    status: field("status"),
    tick: field("tick"),
  };
}

/** Runs the scenario and returns its figures. */
export async function driverScenario(): Promise<Record<string, unknown>> {
  // Plant a running kernel PLL, as another NTP daemon would leave it.
  adjtimex({ modes: MOD_STATUS, status: STA_PLL });
  const pllBefore = (adjtimex({ modes: 0 }).timex.status & STA_PLL) !== 0;
  const driver = new LinuxClockDriver();
  const statusAfterInit = adjtimex({ modes: 0 }).timex.status;

  const frequencies = FREQUENCIES.map((ppm) => {
    const applied = driver.setFrequencyPpm(ppm);
    const { timex } = adjtimex({ modes: 0 });
    return {
      set: ppm,
      applied,
      kernel: tickFreqToFrequency(timex.tick, timex.freq, driver.nominalTick),
      driver: driver.readFrequencyPpm(),
      tick: timex.tick,
      freq: timex.freq,
    };
  });

  const rates: { set: number; measured: number }[] = [];
  for (const ppm of [50_000, -50_000, 1000]) {
    driver.setFrequencyPpm(ppm);
    await awakeSleep(1000);
    rates.push({ set: ppm, measured: round(await measureRatePpm(4000), 1) });
  }
  driver.setFrequencyPpm(0);

  const steps: { step: number; seen: number; ms: number }[] = [];
  for (const step of [3600, -3600, -3600, 3600.5, -0.5]) {
    const before = realMinusMono();
    const t0 = performance.now();
    driver.stepBy(step);
    const ms = performance.now() - t0;
    steps.push({ step, seen: round(realMinusMono() - before, 6), ms: round(ms, 3) });
  }

  driver.setLeap("insert", 37);
  const ins = adjtimex({ modes: 0 }).timex;
  driver.setLeap("delete");
  const del = adjtimex({ modes: 0 }).timex;
  driver.setLeap("none");
  const none = adjtimex({ modes: 0 }).timex;

  driver.setSyncStatus(true, 0.000123, 0.0456);
  const other = await otherProcessTimex();

  return {
    pllBefore,
    pllAfterInit: (statusAfterInit & STA_PLL) !== 0,
    unsyncAfterInit: (statusAfterInit & STA_UNSYNC) !== 0,
    frequencies,
    rates,
    clocksource: clocksource(),
    steps,
    leap: {
      insert: {
        ins: (ins.status & STA_INS) !== 0,
        del: (ins.status & STA_DEL) !== 0,
        tai: ins.tai,
      },
      delete: { ins: (del.status & STA_INS) !== 0, del: (del.status & STA_DEL) !== 0 },
      none: { ins: (none.status & STA_INS) !== 0, del: (none.status & STA_DEL) !== 0 },
    },
    syncStatus: { set: { esterror: 123, maxerror: 45_600 }, otherProcess: other },
  };
}
