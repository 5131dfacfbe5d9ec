/**
 * Boots the VM under qemu (TCG) with a list of scenarios, collects the JSON result lines the
 * guest prints on the serial console, and always kills qemu in the end.
 *
 * @module
 */
import { buildInitramfs, findVmTools, RESULT_MARKER, type VmTools } from "./build.ts";

/** What a scenario reported: its name plus the figures it measured. */
export interface ScenarioResult {
  /** Scenario name. */
  scenario: string;
  /** Set when the scenario threw; the message. */
  error?: string;
  /** Everything else the scenario reported. */
  [key: string]: unknown;
}

/** Options of one VM boot. */
export interface BootOptions {
  /** Scenario names, run in this order in one guest. */
  scenarios: string[];
  /** `-rtc base=` value (default "utc", the host's time). */
  rtcBase?: string;
  /** Extra kernel command-line words (e.g. tempus.epoch=...). */
  append?: string[];
  /** Virtual CPUs (default 1). */
  cpus?: number;
  /** Kill qemu after this many ms (default 180 000). */
  timeoutMs?: number;
}

/** The outcome of one boot. */
export interface BootResult {
  /** Results by scenario name. */
  results: Map<string, ScenarioResult>;
  /** The whole serial console output. */
  console: string;
  /** Wall-clock ms from qemu start to exit. */
  bootMs: number;
  /** Guest uptime (s) when /init started, if seen. */
  guestInitUptime: number | null;
  /** True when qemu had to be killed at the timeout. */
  timedOut: boolean;
}

/** Parses the result lines out of console text. */
export function parseResults(text: string): Map<string, ScenarioResult> {
  const results = new Map<string, ScenarioResult>();
  for (const raw of text.split("\n")) {
    const at = raw.indexOf(RESULT_MARKER);
    if (at < 0) continue;
    try {
      const r = JSON.parse(raw.slice(at + RESULT_MARKER.length).trim()) as ScenarioResult;
      if (typeof r.scenario === "string") results.set(r.scenario, r);
    } catch {
      // a garbled line (console interleaving): ignore
    }
  }
  return results;
}

/** The project root (two levels above this file). */
export const PROJECT_ROOT: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

let cachedBuild: Promise<{ tools: VmTools; initrd: string }> | null = null;

/** Tools and a built initramfs, built once per process. */
export function prepareVm(): Promise<{ tools: VmTools; initrd: string }> {
  if (cachedBuild === null) {
    cachedBuild = (async () => {
      const tools = findVmTools(PROJECT_ROOT);
      if ("missing" in tools) throw new Error(tools.missing);
      const built = await buildInitramfs(tools, PROJECT_ROOT);
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(built.initrd);
        } catch {
          // already gone
        }
      });
      return { tools, initrd: built.initrd };
    })();
  }
  return cachedBuild;
}

/** Boots one VM running `options.scenarios` and returns what it printed. */
export async function bootVm(options: BootOptions): Promise<BootResult> {
  const { tools, initrd } = await prepareVm();
  const append = [
    "console=ttyS0",
    "rdinit=/init",
    "quiet",
    "panic=-1",
    `tempus.scenario=${options.scenarios.join(",")}`,
    ...(options.append ?? []),
  ];
  const args = [
    "-nographic",
    "-no-reboot",
    "-m",
    "1024",
    "-smp",
    String(options.cpus ?? 1),
    "-nic",
    "none",
    "-accel",
    "tcg",
    "-kernel",
    tools.kernel,
    "-initrd",
    initrd,
    "-append",
    // The host's true time for the guest's reference server, taken as late as possible.
    [...append, `tempus.epoch=${BigInt(Date.now()) * 1_000_000n}`].join(" "),
    "-rtc",
    `base=${options.rtcBase ?? "utc"}`,
  ];
  const t0 = performance.now();
  const child = new Deno.Command(tools.qemu, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 180_000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const booted = /TEMPUS-VM-BOOTED uptime=([\d.]+)/.exec(text);
    return {
      results: parseResults(text),
      console: text,
      bootMs: performance.now() - t0,
      guestInitUptime: booted ? Number(booted[1]) : null,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
}

/** Null when VM tests can run here, otherwise the reason to skip them. */
export function vmSkipReason(): string | null {
  const tools = findVmTools(PROJECT_ROOT);
  return "missing" in tools ? tools.missing : null;
}
