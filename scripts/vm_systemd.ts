/**
 * Boots the systemd guest by hand: builds dist/tempus and the cached image if needed, starts
 * a chronyd -x on the host, runs tests/vm/systemd_guest/run.sh and prints the report.
 * Usage: ./deno run -A scripts/vm_systemd.ts [--console]
 *
 * @module
 */
import { buildDist } from "./dist.ts";
import { startHostNtp } from "../tests/vm/host_ntp.ts";
import { bootSystemdVm } from "../tests/vm/systemd_vm.ts";

const dist = await buildDist();
const ntp = await startHostNtp();
try {
  const r = await bootSystemdVm({
    dist: dist.output,
    ntpPort: ntp.port,
    plantSeconds: 3,
    disciplineSeconds: 30,
    timeoutMs: Number(Deno.env.get("TIMEOUT_MS") ?? 420_000),
    showStatus: Deno.args.includes("--status"),
  });
  if (Deno.args.includes("--console")) console.log(r.console);
  console.log(`accel ${r.accel}, ${Math.round(r.ms)} ms, done ${r.done}`);
  for (const [k, v] of r.kv) console.log(`${k} = ${v}`);
  for (const [k, lines] of r.out) console.log(`--- ${k}\n${lines.join("\n")}`);
} finally {
  await ntp.stop();
}
