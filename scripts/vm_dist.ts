/**
 * Boots the throwaway busybox guest with dist/tempus by hand (tests/vm/dist_vm.ts).
 * Usage: ./deno run -A scripts/vm_dist.ts [--console]
 *
 * @module
 */
import { buildDist } from "./dist.ts";
import { startHostNtp } from "../tests/vm/host_ntp.ts";
import { bootDistVm } from "../tests/vm/dist_vm.ts";

const dist = await buildDist();
const ntp = await startHostNtp();
try {
  const r = await bootDistVm({
    dist: dist.output,
    ntpPort: ntp.port,
    plantSeconds: 3,
    disciplineSeconds: 40,
    timeoutMs: 300_000,
  });
  if (Deno.args.includes("--console")) console.log(r.console);
  console.log(`accel ${r.accel}, ${Math.round(r.ms)} ms, done ${r.done}`);
  for (const [k, v] of r.kv) console.log(`${k} = ${v}`);
  for (const [k, lines] of r.out) console.log(`--- ${k}\n${lines.join("\n")}`);
} finally {
  await ntp.stop();
}
