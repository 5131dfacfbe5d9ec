/**
 * Boots the test VM by hand and prints what the guest reported:
 *
 *   ./deno run -A scripts/vm_run.ts driver,leap [--rtc-base 2031-05-06T07:08:09] [--console]
 *
 * Scenarios: see tests/vm/guest/scenarios.ts. The initramfs is (re)built first.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { bootVm, vmSkipReason } from "../tests/vm/runner.ts";

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "rtc-base": { type: "string" },
      console: { type: "boolean", default: false },
      timeout: { type: "string", default: "240" },
      cpus: { type: "string", default: "1" },
    },
  });
  const skip = vmSkipReason();
  if (skip) {
    console.error(skip);
    Deno.exit(2);
  }
  const scenarios = positionals.flatMap((p) => p.split(",")).filter(Boolean);
  const r = await bootVm({
    scenarios: scenarios.length ? scenarios : ["hello"],
    rtcBase: values["rtc-base"],
    cpus: Number(values.cpus),
    timeoutMs: Number(values.timeout) * 1000,
  });
  if (values.console) console.log(r.console);
  for (const result of r.results.values()) console.log(JSON.stringify(result, null, 2));
  console.log(
    `qemu ran ${(r.bootMs / 1000).toFixed(1)} s; /init at guest uptime ${r.guestInitUptime} s` +
      (r.timedOut ? "; TIMED OUT" : ""),
  );
  Deno.exit(r.timedOut || [...r.results.values()].some((x) => x.error) ? 1 : 0);
}
