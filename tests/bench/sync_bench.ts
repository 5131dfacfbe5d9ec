/**
 * `deno bench` view of one `tempus sync --dry-run` (4 samples, in process) against a
 * loopback chronyd -x, beside one `chronyd -Q` (iburst maxsamples 1) against the same server.
 * The table with subprocess timings: tests/bench/sync_table.ts. Never touches the clock.
 */
import { runSync } from "../../src/cli/sync.ts";
import {
  chronydQuery,
  type ChronydServer,
  haveBinary,
  startChronydServer,
} from "../helpers/peers.ts";
import { quietSyncDeps } from "./sync_table.ts";

const deps = quietSyncDeps();

let server: ChronydServer | null = null;
async function ensureServer(): Promise<ChronydServer> {
  if (server === null) {
    server = await startChronydServer();
    // deno bench has no afterAll: stop chronyd when the bench process unloads.
    globalThis.addEventListener("unload", () => {
      void server?.stop();
    });
  }
  return server;
}

Deno.bench({
  name: "tempus sync --dry-run, 4 samples (in process)",
  group: "one-shot sync against loopback chronyd",
  baseline: true,
  ignore: !haveBinary("chronyd"),
  n: 20,
  warmup: 2,
  async fn() {
    const s = await ensureServer();
    const r = await runSync(["--dry-run", s.target], deps);
    if (r.code !== 0) throw new Error(`sync failed: ${r.error}`);
  },
});

Deno.bench({
  name: "chronyd -Q iburst maxsamples 1 (new process)",
  group: "one-shot sync against loopback chronyd",
  ignore: !haveBinary("chronyd"),
  n: 5,
  warmup: 1,
  async fn() {
    const server = await ensureServer();
    await chronydQuery(server.address, server.port, "maxsamples 1");
  },
});
