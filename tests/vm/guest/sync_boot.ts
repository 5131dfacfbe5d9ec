/**
 * Scenario "sync": `tempus sync` at boot against the guest's reference server. The clock is
 * first put on the reference, then stepped +1 h; `tempus sync 127.0.0.1:PORT` must bring it
 * back. The true offset afterwards (guest CLOCK_REALTIME minus reference) and the run time
 * are measured.
 *
 * @module
 */
import { adjtimex } from "../../../ffi/libc.ts";
import { ADJ_OFFSET_SINGLESHOT, ADJ_OFFSET_SS_READ } from "../../../ffi/timex.ts";
import { LinuxClockDriver } from "../../../src/clock/linux.ts";
import { epochFromCmdline, startRefServer } from "./ref_server.ts";
import { monotonicRaw, realtime, round } from "./util.ts";

/** CLOCK_REALTIME minus the reference, seconds (median of 5 readings). */
export function trueOffset(ref: () => bigint): number {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const a = ref();
    const r = realtime();
    const b = ref();
    xs.push(Number(r - (a + (b - a) / 2n)) / 1e9);
  }
  return xs.sort((p, q) => p - q)[2];
}

async function denoRun(args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", "--cached-only", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Runs the scenario and returns its figures. */
export async function syncScenario(): Promise<Record<string, unknown>> {
  const epoch = epochFromCmdline(Deno.readTextFileSync("/proc/cmdline"));
  if (epoch === null) throw new Error("no tempus.epoch= on the kernel command line");
  const server = startRefServer(epoch);
  try {
    const driver = new LinuxClockDriver();
    driver.setFrequencyPpm(0);
    driver.stepBy(-trueOffset(server.now));
    const aligned = trueOffset(server.now);
    driver.stepBy(3600);
    const before = trueOffset(server.now);

    const root = new URL("../../..", import.meta.url).pathname;
    // Baseline: how long deno needs to start tempus at all under TCG.
    const b0 = monotonicRaw();
    await denoRun([`${root}mod.ts`, "--version"]);
    const startupSeconds = Number(monotonicRaw() - b0) / 1e9;

    const t0 = monotonicRaw();
    const wall0 = realtime();
    const out = await denoRun([`${root}mod.ts`, "sync", "--json", `127.0.0.1:${server.port}`]);
    const runSeconds = Number(monotonicRaw() - t0) / 1e9;
    const after = trueOffset(server.now);
    const stdout = new TextDecoder().decode(out.stdout);
    let report: unknown = null;
    try {
      report = JSON.parse(stdout);
    } catch {
      report = null;
    }
    // When the (best) reply arrived, on the process's pre-step clock: the step follows it.
    const received = Date.parse(
      (report as { servers?: { best?: { localReceive?: string } }[] })?.servers?.[0]?.best
        ?.localReceive ?? "",
    );
    const measuredAfter = Number.isNaN(received) ? null : received / 1000 - Number(wall0) / 1e9;
    return {
      aligned: round(aligned, 6),
      before: round(before, 6),
      after: round(after, 6),
      runSeconds: round(runSeconds, 3),
      startupSeconds: round(startupSeconds, 3),
      measuredAfter: measuredAfter === null ? null : round(measuredAfter, 3),
      exitCode: out.code,
      answered: server.answered(),
      report,
      stdout: report ? undefined : stdout.slice(0, 2000),
      stderr: new TextDecoder().decode(out.stderr).slice(0, 2000),
    };
  } finally {
    server.close();
  }
}

/**
 * Scenario "sync_slew": `tempus sync --slew` with the clock 0.2 s ahead must hand the kernel
 * a single-shot slew of about -0.2 s, which then runs at 500 ppm.
 */
export async function syncSlewScenario(): Promise<Record<string, unknown>> {
  const epoch = epochFromCmdline(Deno.readTextFileSync("/proc/cmdline"));
  if (epoch === null) throw new Error("no tempus.epoch= on the kernel command line");
  const server = startRefServer(epoch);
  try {
    const driver = new LinuxClockDriver();
    driver.setFrequencyPpm(0);
    driver.stepBy(-trueOffset(server.now));
    driver.stepBy(0.2);
    const before = trueOffset(server.now);
    const root = new URL("../../..", import.meta.url).pathname;
    const out = await denoRun([
      `${root}mod.ts`,
      "sync",
      "--slew",
      "--json",
      `127.0.0.1:${server.port}`,
    ]);
    const pending = adjtimex({ modes: ADJ_OFFSET_SS_READ }).timex.offset / 1e6;
    await new Promise((r) => setTimeout(r, 1000));
    const o1 = trueOffset(server.now);
    const t1 = monotonicRaw();
    await new Promise((r) => setTimeout(r, 4000));
    const o2 = trueOffset(server.now);
    const t2 = monotonicRaw();
    const pendingAfter = adjtimex({ modes: ADJ_OFFSET_SS_READ }).timex.offset / 1e6;
    // Cancel what is left so later scenarios start clean.
    adjtimex({ modes: ADJ_OFFSET_SINGLESHOT, offset: 0 });
    let correction: number | null = null;
    try {
      correction = JSON.parse(new TextDecoder().decode(out.stdout)).correction ?? null;
    } catch {
      correction = null;
    }
    return {
      before: round(before, 6),
      exitCode: out.code,
      correction,
      pending: round(pending, 6),
      pendingAfter: round(pendingAfter, 6),
      slewRatePpm: round((o2 - o1) / (Number(t2 - t1) / 1e9) * 1e6, 1),
      stdout: new TextDecoder().decode(out.stdout).slice(0, 1500),
      stderr: new TextDecoder().decode(out.stderr).slice(0, 1500),
    };
  } finally {
    server.close();
  }
}
