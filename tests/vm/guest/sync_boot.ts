/**
 * Scenario "sync": `tempus sync` at boot against the guest's reference server. The clock is
 * first put on the reference, then stepped +1 h; `tempus sync 127.0.0.1:PORT` must bring it
 * back. The true offset afterwards (guest CLOCK_REALTIME minus reference) and the run time
 * are measured.
 *
 * @module
 */
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
