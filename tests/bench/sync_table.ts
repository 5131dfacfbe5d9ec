/**
 * Wall time of `tempus sync --dry-run` beside `chronyd -Q` against the same loopback chronyd,
 * printed as a table. Never touches the clock (chronyd -x serves, -Q and --dry-run measure).
 *
 * Run: ./deno run -A --unstable-net tests/bench/sync_table.ts [RUNS]
 */
import { runSync, type SyncDeps } from "../../src/cli/sync.ts";
import { systemTimeSource } from "../../src/clock/kernel_ops.ts";
import { resolveHost } from "../../src/io/dns.ts";
import { chronydQuery, haveBinary, runTempus, startChronydServer } from "../helpers/peers.ts";

interface Row {
  what: string;
  samples: string;
  times: number[];
  offsets: number[];
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

/** Sync dependencies that print nothing and refuse to change the clock. */
export function quietSyncDeps(): SyncDeps {
  return {
    now: systemTimeSource().realtime,
    permissionError: () => Promise.resolve(null),
    createClock: () => Promise.reject(new Error("benchmark never changes the clock")),
    resolve: resolveHost,
    randomFill: (b) => crypto.getRandomValues(b),
    out: () => {},
    err: () => {},
  };
}

async function main(): Promise<void> {
  if (!haveBinary("chronyd")) {
    console.log("chronyd not installed: nothing to compare against");
    return;
  }
  const runs = Number(Deno.args[0] ?? 5);
  const server = await startChronydServer();
  const rows: Row[] = [];
  try {
    const inProcess: Row = {
      what: "tempus sync --dry-run (in process)",
      samples: "4",
      times: [],
      offsets: [],
    };
    const subprocess: Row = {
      what: "tempus sync --dry-run (new process)",
      samples: "4",
      times: [],
      offsets: [],
    };
    const chronyOne: Row = {
      what: "chronyd -Q (iburst maxsamples 1)",
      samples: "1",
      times: [],
      offsets: [],
    };
    const chronyDefault: Row = {
      what: "chronyd -Q (iburst)",
      samples: "default",
      times: [],
      offsets: [],
    };
    await runSync(["--dry-run", server.target], quietSyncDeps()); // warm up the JIT
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await runSync(["--dry-run", server.target], quietSyncDeps());
      inProcess.times.push(performance.now() - t0);
      if (r.selection?.ok) inProcess.offsets.push(r.selection.offset);
      const p = await runTempus(["sync", "--dry-run", "--json", server.target]);
      subprocess.times.push(p.elapsedMs);
      if (p.code === 0) subprocess.offsets.push(JSON.parse(p.stdout).offset);
      const c = await chronydQuery(server.address, server.port, "maxsamples 1");
      chronyOne.times.push(c.elapsedMs);
      chronyOne.offsets.push(c.offset);
    }
    for (let i = 0; i < Math.min(2, runs); i++) {
      const c = await chronydQuery(server.address, server.port);
      chronyDefault.times.push(c.elapsedMs);
      chronyDefault.offsets.push(c.offset);
    }
    rows.push(inProcess, subprocess, chronyOne, chronyDefault);
  } finally {
    await server.stop();
  }
  console.log(`server: chronyd -x on loopback; ${runs} runs (chronyd -Q default: 2 runs)`);
  console.log(
    "what".padEnd(38) + "samples".padStart(8) + "median ms".padStart(11) + "min ms".padStart(9) +
      "max ms".padStart(9) + "  offsets (us)",
  );
  for (const row of rows) {
    const s = stats(row.times);
    console.log(
      row.what.padEnd(38) + row.samples.padStart(8) + s.median.toFixed(1).padStart(11) +
        s.min.toFixed(1).padStart(9) + s.max.toFixed(1).padStart(9) + "  " +
        row.offsets.map((o) => (o * 1e6).toFixed(0)).join(" "),
    );
  }
}

if (import.meta.main) await main();
