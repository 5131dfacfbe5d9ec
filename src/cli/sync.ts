/**
 * `tempus sync [SERVER...]`: the boot-time one-shot (like `chronyd -q` or ntpdate). Each
 * server gets a short burst (4 requests a few ms apart, servers in parallel); the lowest-delay
 * sample per server is kept; falsetickers are rejected by interval intersection with a strict
 * majority; survivors are combined weighted by 1/root distance. Then the clock is stepped
 * when |offset| > 0.128 s (or with --step) and slewed otherwise (or with --slew);
 * --dry-run only measures and never creates a clock driver.
 *
 * @module
 */
import { ntsTarget, type OneShotNts } from "../sync/nts_one_shot.ts";
import { parseArgs } from "node:util";
import { MEASURE_OPTIONS } from "./command_args.ts";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import type { SocketAddress } from "../base/ports.ts";
import { joinHostPort, resolveHost, splitHostPort } from "../io/dns.ts";
import type { ClockFn } from "../io/udp.ts";
import {
  type BurstOptions,
  type BurstReport,
  DEFAULT_BURST,
  runBurst,
  warmUp,
} from "../sync/burst.ts";
import { decideAction, STEP_THRESHOLD, type SyncDecision, type SyncMode } from "../sync/decide.ts";
import { type OneShotSelection, selectOneShot } from "../core/engine/one_shot_select.ts";
import { describeKiss, formatDuration, formatSeconds, measurementToJson } from "../sync/report.ts";
import { errorMessage } from "../base/errors.ts";

/** The server used when none is given. */
export const DEFAULT_SERVER = "pool.ntp.org";
/** Addresses used at most per server name (a pool name gives several servers). */
export const MAX_ADDRESSES_PER_NAME = 4;

/** When this environment variable is "1", the real clock driver is never created (tests). */
export const NO_CLOCK_ENV = "TEMPUS_NO_CLOCK";

/** The clock operations sync needs (the Linux driver in production, a fake in tests). */
export interface SyncClock {
  /** Steps the clock by `seconds` (> 0: forward). */
  stepBy(seconds: number): void;
  /** Starts a kernel single-shot slew of `seconds`. */
  slewBy(seconds: number): void;
}

/** Everything `runSync` needs from the outside world. */
export interface SyncDeps {
  /** Clock stamping requests and replies (the raw system clock). */
  now: ClockFn;
  /** Returns a message when the process may not set the clock, else null. */
  permissionError: () => Promise<string | null>;
  /** Creates the clock driver; only called when the clock is to be changed. */
  createClock: () => Promise<SyncClock>;
  /** Name resolution. */
  resolve: typeof resolveHost;
  /** Cryptographic random octets. */
  randomFill: (bytes: Uint8Array) => void;
  /** Output sinks (stdout, stderr). */
  out: (line: string) => void;
  /** Error sink. */
  err: (line: string) => void;
}

const USAGE = `Usage: tempus sync [SERVER[:PORT]...] [options]

Measures several servers (default ${DEFAULT_SERVER}), rejects falsetickers, combines the rest
and corrects the clock once: a step when |offset| > ${STEP_THRESHOLD} s, a slew otherwise.

  --step             always step
  --slew             always slew (kernel adjtime, 500 ppm)
  --dry-run          only measure and report; never touch the clock
  --threshold S      step threshold for the default mode (default ${STEP_THRESHOLD})
  --samples N        requests per server (default ${DEFAULT_BURST.count})
  --nts              authenticate every server with NTS (RFC 8915): NTS-KE first (the
                     certificate must match SERVER), which names the NTP server and port
  --nts-port N       NTS-KE port (default 4460)
  --nts-ca FILE      trust this CA file too (besides the system's certificates)
  --timeout S        seconds to wait for each reply (default ${DEFAULT_BURST.timeoutMs / 1000})
  -4 / -6            use IPv4 / IPv6 addresses only
  --json             one JSON object on stdout
  -h, --help         this text

Exit status: 0 measured (and corrected unless --dry-run); 1 no usable server, no majority,
no permission or the clock could not be set; 2 usage error.`;

/** The whole outcome, for the JSON report and tests. */
export interface SyncResult {
  /** Exit code. */
  code: number;
  /** Per-server bursts. */
  servers: BurstReport[];
  /** Selection outcome (null if it never ran). */
  selection: OneShotSelection | null;
  /** The decision (null if none was made). */
  decision: SyncDecision | null;
  /** True when the clock was actually changed. */
  applied: boolean;
  /** A one-line error, or null. */
  error: string | null;
}

/** The production dependencies: system clock, Linux driver, DNS, console. */
export function realDeps(): SyncDeps {
  return {
    now: systemTimeSource().realtime,
    permissionError: async () => (await import("../clock/linux.ts")).clockPermissionError(),
    createClock: async () => {
      if (Deno.env.get(NO_CLOCK_ENV) === "1") {
        throw new Error(`${NO_CLOCK_ENV}=1 forbids clock changes (test safety)`);
      }
      const { LinuxClockDriver } = await import("../clock/linux.ts");
      const driver = new LinuxClockDriver();
      return {
        stepBy: (seconds) => driver.stepBy(seconds),
        slewBy: (seconds) => void driver.singleShotSlew(seconds),
      };
    },
    resolve: resolveHost,
    randomFill: (bytes) => crypto.getRandomValues(bytes),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
}

/** Runs `tempus sync`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  return (await runSync(args, realDeps())).code;
}

/** Runs `tempus sync` with injected dependencies. Never throws. */
export async function runSync(args: string[], deps: SyncDeps): Promise<SyncResult> {
  const result: SyncResult = {
    code: 0,
    servers: [],
    selection: null,
    decision: null,
    applied: false,
    error: null,
  };
  let json = false;
  const finish = (code: number, error: string | null): SyncResult => {
    result.code = code;
    result.error = error;
    if (json) deps.out(JSON.stringify(toJson(result)));
    else if (error !== null) deps.err(`tempus sync: ${error}`);
    return result;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        step: { type: "boolean" },
        slew: { type: "boolean" },
        "dry-run": { type: "boolean" },
        threshold: { type: "string" },
        samples: { type: "string" },
        ...MEASURE_OPTIONS,
      },
    });
  } catch (error) {
    return finish(2, errorMessage(error));
  }
  const { values, positionals } = parsed;
  json = values.json ?? false;
  if (values.help) {
    deps.out(USAGE);
    return result;
  }
  const chosen = [values.step, values.slew, values["dry-run"]].filter(Boolean).length;
  if (chosen > 1) return finish(2, "choose at most one of --step, --slew, --dry-run");
  const mode: SyncMode = values["dry-run"]
    ? "dry-run"
    : values.step
    ? "step"
    : values.slew
    ? "slew"
    : "auto";
  const threshold = values.threshold === undefined ? STEP_THRESHOLD : Number(values.threshold);
  const samples = values.samples === undefined ? DEFAULT_BURST.count : Number(values.samples);
  const timeout = values.timeout === undefined
    ? DEFAULT_BURST.timeoutMs / 1000
    : Number(values.timeout);
  if (!(threshold >= 0)) return finish(2, "--threshold must be a number of seconds >= 0");
  if (!Number.isInteger(samples) || samples < 1 || samples > 16) {
    return finish(2, "--samples must be an integer from 1 to 16");
  }
  if (!(timeout > 0 && timeout <= 60)) return finish(2, "--timeout must be in (0, 60] seconds");

  // Fail before touching the network when the clock could not be set anyway.
  if (mode !== "dry-run") {
    const denied = await deps.permissionError();
    if (denied !== null) return finish(1, denied);
  }

  const names = positionals.length > 0 ? positionals : [DEFAULT_SERVER];
  const family = values["4"] ? "ipv4" : values["6"] ? "ipv6" : "any";
  const targets: SocketAddress[] = [];
  const targetNames = new Map<SocketAddress, { arg: string; host: string }>();
  const resolveErrors: string[] = [];
  const resolved = await Promise.all(names.map(async (name) => {
    const hp = splitHostPort(name, 123);
    if (hp === null) return { name, error: `cannot parse '${name}' as SERVER[:PORT]` };
    const r = await deps.resolve(hp.host, { family, timeoutMs: 3000 });
    return r.ok
      ? {
        name,
        host: hp.host,
        port: hp.port,
        addresses: r.addresses.slice(0, MAX_ADDRESSES_PER_NAME),
      }
      : { name, error: r.error };
  }));
  for (const r of resolved) {
    if ("error" in r) {
      resolveErrors.push(r.error ?? "");
      continue;
    }
    for (const address of r.addresses) {
      if (!targets.some((t) => t.address === address && t.port === r.port)) {
        const target = { address, port: r.port };
        targets.push(target);
        targetNames.set(target, { arg: r.name, host: r.host });
      }
    }
  }
  if (targets.length === 0) {
    return finish(
      1,
      resolveErrors.length === 1
        ? resolveErrors[0]
        : `no server could be resolved (${resolveErrors.join("; ")})`,
    );
  }
  if (!json) { for (const e of resolveErrors) deps.err(`tempus sync: ${e}`); }

  const burst: BurstOptions = {
    ...DEFAULT_BURST,
    count: samples,
    timeoutMs: timeout * 1000,
    retryAfterMs: Math.min(DEFAULT_BURST.retryAfterMs, timeout * 1000),
    clock: deps.now,
    randomFill: deps.randomFill,
  };
  // NTS: NTS-KE with every server first; it names the NTP server and port to measure.
  let auths: (OneShotNts | null)[] = targets.map(() => null);
  if (values.nts) {
    const keyed = await Promise.all(targets.map((t) => {
      const n = targetNames.get(t)!;
      return ntsTarget(n.arg, n.host, t.address, values, timeout);
    }));
    const usage = keyed.find((k): k is string => typeof k === "string" && k.startsWith("--"));
    if (usage !== undefined) return finish(2, usage);
    const ok = keyed.filter((k) => typeof k !== "string");
    if (!json) { for (const k of keyed) if (typeof k === "string") deps.err(`tempus sync: ${k}`); }
    if (ok.length === 0) return finish(1, "NTS-KE failed with every server");
    targets.splice(0, targets.length, ...ok.map((k) => k.server));
    auths = ok.map((k) => k.auth);
  } else if (values["nts-port"] !== undefined || values["nts-ca"] !== undefined) {
    return finish(2, "--nts-port and --nts-ca need --nts");
  }
  await warmUp(deps.now);
  result.servers = await Promise.all(
    targets.map((t, i) => runBurst(t, { ...burst, auth: auths[i] })),
  );

  // DENY/RSTR: the server is not used at all. RATE: no more requests in this run, but
  // samples it gave before the kiss remain valid.
  const usable = result.servers.filter((s) =>
    s.best !== null && (s.kod === null || s.kod.action === "reduce-rate")
  );
  result.selection = selectOneShot(
    usable.map((s) => ({
      id: joinHostPort(s.server.address, s.server.port),
      offset: s.best!.offset,
      rootDistance: s.best!.rootDistance,
      rootDelay: s.best!.sample.rootDelay,
      rootDispersion: s.best!.sample.rootDispersion,
      stratum: s.best!.sample.stratum,
      leap: s.best!.sample.leap,
    })),
    deps.now(),
  );
  if (!json) printServers(result, deps);
  if (usable.length === 0) return finish(1, "no usable reply from any server");
  if (!result.selection.ok) return finish(1, `cannot synchronise: ${result.selection.message}`);

  const offset = result.selection.offset;
  result.decision = decideAction(offset, mode, threshold);
  if (result.decision.action !== "none") {
    try {
      const clock = await deps.createClock();
      // Each reply was read a few ms ago; a relative step or slew is unaffected by that.
      if (result.decision.action === "step") clock.stepBy(result.decision.correction);
      else clock.slewBy(result.decision.correction);
      result.applied = true;
    } catch (error) {
      return finish(1, `could not ${result.decision.action} the clock: ${errorMessage(error)}`);
    }
  }
  if (!json) printSummary(result, deps);
  return finish(0, null);
}

function printServers(result: SyncResult, deps: SyncDeps): void {
  const selection = result.selection;
  for (const s of result.servers) {
    const id = joinHostPort(s.server.address, s.server.port);
    let line: string;
    if (s.kod !== null && (s.best === null || s.kod.action !== "reduce-rate")) {
      line = `${id}  Kiss-o'-Death ${s.kod.code} (${describeKiss(s.kod.code)}); server not used`;
    } else if (s.best === null) {
      line = s.error !== null
        ? `${id}  send failed: ${s.error}`
        : s.rejected.length > 0
        ? `${id}  invalid replies: ${s.rejected[0].detail}`
        : `${id}  no reply`;
    } else {
      const tag = verdictOf(selection, id).tag;
      line = `${tag} ${id}  offset ${formatSeconds(s.best.offset)} s  delay ${
        formatDuration(s.best.delay)
      } s  stratum ${s.best.packet.stratum}  ${s.samples.length}/${s.sent} samples${
        s.kod === null ? "" : `, then Kiss-o'-Death ${s.kod.code}`
      }`;
    }
    deps.out(line);
  }
}

function printSummary(result: SyncResult, deps: SyncDeps): void {
  const sel = result.selection!;
  const d = result.decision!;
  const used = `${sel.combined.length} of ${result.servers.length} server(s)`;
  const head = `offset ${formatSeconds(sel.offset)} s (+/- ${
    formatDuration(sel.rootDistance)
  } s) from ${used}`;
  if (d.action === "none") deps.out(`${head}; ${d.reason}`);
  else if (d.action === "step") {
    deps.out(`${head}; clock stepped by ${formatSeconds(d.correction)} s (${d.reason})`);
  } else {
    deps.out(
      `${head}; slewing by ${formatSeconds(d.correction)} s, about ${
        d.slewSeconds.toFixed(1)
      } s at 500 ppm (${d.reason})`,
    );
    if (d.slewSeconds > 3600) {
      deps.err(
        `tempus sync: warning: this slew takes ${(d.slewSeconds / 3600).toFixed(1)} h; ` +
          "--step corrects at once",
      );
    }
  }
}

/**
 * What selection made of a server with a sample: combined (`*`), a truechimer left out of the
 * combination (`+`), a falseticker (`x`), or not selectable at all (`?`: e.g. its root distance
 * exceeds maxdistance).
 */
function verdictOf(
  selection: OneShotSelection | null,
  id: string,
): { tag: string; status: "combined" | "truechimer" | "falseticker" | "unselectable" } {
  if (selection?.combined.includes(id)) return { tag: "*", status: "combined" };
  if (selection?.survivors.includes(id)) return { tag: "+", status: "truechimer" };
  if (selection === null || selection.falsetickers.includes(id)) {
    return { tag: "x", status: "falseticker" };
  }
  return { tag: "?", status: "unselectable" };
}

/** The JSON report of a sync run. */
export function toJson(result: SyncResult): Record<string, unknown> {
  return {
    ok: result.code === 0,
    error: result.error,
    offset: result.selection?.ok ? result.selection.offset : null,
    rootDistance: result.selection?.ok ? result.selection.rootDistance : null,
    action: result.decision?.action ?? null,
    correction: result.decision?.correction ?? null,
    reason: result.decision?.reason ?? null,
    applied: result.applied,
    servers: result.servers.map((s) => {
      const id = joinHostPort(s.server.address, s.server.port);
      return {
        server: id,
        address: s.server.address,
        port: s.server.port,
        sent: s.sent,
        received: s.samples.length,
        status: s.kod !== null && (s.best === null || s.kod.action !== "reduce-rate")
          ? "kod"
          : s.best === null
          ? "no-reply"
          : verdictOf(result.selection, id).status,
        kod: s.kod,
        error: s.error,
        rejected: s.rejected,
        best: s.best === null ? null : measurementToJson(s.best),
      };
    }),
  };
}
