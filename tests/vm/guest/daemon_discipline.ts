/**
 * Scenario "daemon": `tempus daemon` disciplines the guest clock to the reference server.
 * The harness puts the clock on the reference, plants a frequency error (+1000 ppm through
 * tick/freq) and an offset (+0.5 s), then runs the daemon with makestep disabled and samples
 * once a second: the true offset (CLOCK_REALTIME minus reference), the kernel frequency and
 * CLOCK_REALTIME - CLOCK_MONOTONIC (which moves only when the clock is stepped).
 *
 * @module
 */
import { adjtimex, clockGettime } from "../../../ffi/libc.ts";
import { boundAt } from "../../../src/core/error_bound.ts";
import { readErrorBoundPage } from "../../../src/io/error_bound_file.ts";
import { LinuxClockDriver, tickFreqToFrequency } from "../../../src/clock/linux.ts";
import { epochFromCmdline, startRefServer } from "./ref_server.ts";
import { trueOffset } from "./sync_boot.ts";
import { monotonicRaw, realMinusMono, round, sleep } from "./util.ts";

/** Frequency error planted before the daemon starts, ppm (> 0: clock runs fast). */
export const PLANTED_PPM = 1000;
/** Offset planted before the daemon starts, seconds (> 0: clock ahead). */
export const PLANTED_OFFSET = 0.5;
/** How long the daemon runs, seconds. */
export const RUN_SECONDS = 60;

function kernelFrequency(): number {
  const { timex } = adjtimex({ modes: 0 });
  return tickFreqToFrequency(timex.tick, timex.freq, 10_000);
}

async function collect(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    sink.push(decoder.decode(chunk, { stream: true }));
    if (sink.length > 2000) sink.splice(0, sink.length - 2000);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Rate (s/s) between the medians of the first and last 5 samples of a series. */
export function endToEndRate(series: { t: number; offset: number }[]): number {
  const head = series.slice(0, 5);
  const tail = series.slice(-5);
  const dt = median(tail.map((s) => s.t)) - median(head.map((s) => s.t));
  return (median(tail.map((s) => s.offset)) - median(head.map((s) => s.offset))) / dt;
}

/** Runs the scenario and returns its figures. */
export async function daemonScenario(): Promise<Record<string, unknown>> {
  const epoch = epochFromCmdline(Deno.readTextFileSync("/proc/cmdline"));
  if (epoch === null) throw new Error("no tempus.epoch= on the kernel command line");
  const server = startRefServer(epoch);
  const root = new URL("../../..", import.meta.url).pathname;
  const confPath = "/tmp/tempus-vm.conf";
  Deno.mkdirSync("/run/tempus", { recursive: true });
  Deno.writeTextFileSync(
    confPath,
    [
      `server 127.0.0.1 port ${server.port} iburst minpoll 0 maxpoll 0`,
      "pidfile /run/tempus/tempus.pid",
      "port 0",
      "errorboundfile /run/tempus/errorbound",
      "",
    ].join("\n"),
  );
  const setup = new LinuxClockDriver();
  setup.setFrequencyPpm(0);
  setup.stepBy(-trueOffset(server.now));
  const aligned = trueOffset(server.now);
  setup.setFrequencyPpm(PLANTED_PPM);
  setup.stepBy(PLANTED_OFFSET);
  const start = trueOffset(server.now);

  const log: string[] = [];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      "--cached-only",
      `${root}mod.ts`,
      "daemon",
      "-f",
      confPath,
      "-d",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reading = Promise.all([collect(child.stdout, log), collect(child.stderr, log)]);
  let exited: Deno.CommandStatus | null = null;
  child.status.then((s) => exited = s);

  const base = realMinusMono();
  const t0 = monotonicRaw();
  const samples: { t: number; offset: number; freq: number; jump: number }[] = [];
  let tracking = "";
  let exitedEarly = false;
  // The published error bound against the reference (true time), once a second.
  const bound = {
    readings: 0,
    bounded: 0,
    outside: 0,
    minMargin: Infinity,
    widths: [] as number[],
  };
  const readBound = () => {
    bound.readings++;
    let page;
    try {
      page = readErrorBoundPage("/run/tempus/errorbound");
    } catch {
      return;
    }
    if (!page.ok) return;
    const monotonic = clockGettime(1);
    const realtime = clockGettime(0);
    const interval = boundAt(page.snapshot, realtime, monotonic);
    const offset = trueOffset(server.now); // CLOCK_REALTIME minus reference, s
    if (interval === null) return;
    bound.bounded++;
    bound.widths.push(interval.maxError);
    const margin = interval.maxError - Math.abs(offset);
    bound.minMargin = Math.min(bound.minMargin, margin);
    if (margin < 0) bound.outside++;
  };
  try {
    while (exited === null) {
      const t = Number(monotonicRaw() - t0) / 1e9;
      if (t > RUN_SECONDS) break;
      samples.push({
        t: round(t, 2),
        offset: round(trueOffset(server.now), 7),
        freq: round(kernelFrequency(), 3),
        jump: round(realMinusMono() - base, 7),
      });
      readBound();
      await sleep(1000);
    }
    if (exited === null) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-net", "--cached-only", `${root}mod.ts`, "tracking"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      tracking = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    }
    exitedEarly = exited !== null;
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 3000);
    await child.status;
    clearTimeout(timer);
    await reading.catch(() => {});
    server.close();
  }

  const last = samples.at(-1);
  const tail = samples.filter((s) => last && s.t >= last.t - 30);
  // Mean true rate over the tail: medians of 5 samples at each end resist TCG's spikes.
  const rate = tail.length >= 12 ? endToEndRate(tail) * 1e6 : null;
  const tailAbs = tail.map((s) => Math.abs(s.offset)).sort((a, b) => a - b);
  let settledAt: number | null = null;
  for (let i = samples.length - 1; i >= 0 && Math.abs(samples[i].offset) < 0.001; i--) {
    settledAt = samples[i].t;
  }
  return {
    aligned: round(aligned, 6),
    start: round(start, 6),
    planted: { ppm: PLANTED_PPM, offset: PLANTED_OFFSET },
    exitedEarly,
    finalOffset: last?.offset ?? null,
    finalFreq: last?.freq ?? null,
    trueRatePpmLast30s: rate === null ? null : round(rate, 3),
    meanKernelFreqLast30s: tail.length
      ? round(tail.reduce((a, s) => a + s.freq, 0) / tail.length, 3)
      : null,
    medianAbsOffsetLast30s: tailAbs.length ? tailAbs[Math.floor(tailAbs.length / 2)] : null,
    maxAbsOffsetLast30s: tailAbs.at(-1) ?? null,
    maxJump: Math.max(0, ...samples.map((s) => Math.abs(s.jump))),
    errorBound: {
      readings: bound.readings,
      bounded: bound.bounded,
      outside: bound.outside,
      minMargin: bound.bounded > 0 ? round(bound.minMargin, 7) : null,
      medianMaxError: bound.widths.length ? round(median(bound.widths), 7) : null,
    },
    settledUnder1msAt: settledAt,
    samples,
    tracking,
    log: log.join("").slice(-4000),
  };
}
