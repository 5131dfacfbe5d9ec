/**
 * Builds the test VM's initramfs (.vm-build/initrd.img) and prints where it is:
 *
 *   ./deno run -A scripts/vm_build.ts
 *
 * @module
 */
import { buildInitramfs, findVmTools } from "../tests/vm/build.ts";
import { PROJECT_ROOT } from "../tests/vm/runner.ts";

if (import.meta.main) {
  const tools = findVmTools(PROJECT_ROOT);
  if ("missing" in tools) {
    console.error(tools.missing);
    Deno.exit(2);
  }
  const r = await buildInitramfs(tools, PROJECT_ROOT);
  const size = (await Deno.stat(r.initrd)).size;
  console.log(
    `${r.initrd}: ${(size / 1e6).toFixed(1)} MB in ${Math.round(r.ms)} ms` +
      ` (base archive ${r.baseCached ? "cached" : "rebuilt"}); kernel ${tools.kernel}`,
  );
}
