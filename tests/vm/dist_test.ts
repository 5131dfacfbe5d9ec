/**
 * dist/tempus in the throwaway busybox guest (glibc, busybox, no Deno): `--version` before
 * the network is up, `tempus sync` stepping a clock 1 h off onto a chronyd on the host, and
 * `tempus daemon` disciplining a clock started 3 s ahead and 500 ppm fast. It proves on any
 * machine with qemu what the systemd guest (systemd_test.ts) proves where its cached rootfs
 * exists, so it runs only when that rootfs is absent, or with TEMPUS_VM_DIST=1.
 */
import assert from "node:assert/strict";
import { buildDist } from "../../scripts/dist.ts";
import { bootDistVm } from "./dist_vm.ts";
import { chronydPath, startHostNtp } from "./host_ntp.ts";
import { systemdImageMissing } from "./rootfs.ts";
import { vmSkipReason } from "./runner.ts";
import type { GuestReport } from "./systemd_vm.ts";

const skip = vmSkipReason() ??
  (chronydPath() === null ? "dist VM test skipped: chronyd not installed" : null) ??
  (systemdImageMissing() === null && Deno.env.get("TEMPUS_VM_DIST") !== "1"
    ? "dist VM test skipped: systemd_test.ts runs dist/tempus in its guest (TEMPUS_VM_DIST=1 runs this too)"
    : null);
if (skip) console.log(skip);

let boot: Promise<GuestReport> | null = null;
function guest(): Promise<GuestReport> {
  boot ??= (async () => {
    const dist = await buildDist();
    const ntp = await startHostNtp();
    try {
      return await bootDistVm({
        dist: dist.output,
        ntpPort: ntp.port,
        plantSeconds: 3,
        disciplineSeconds: 40,
        timeoutMs: 300_000,
      });
    } finally {
      await ntp.stop();
    }
  })();
  return boot;
}

function offset(r: GuestReport, name: string): number {
  const text = (r.out.get(name) ?? []).join("\n");
  const json = JSON.parse(text.slice(text.indexOf("{")));
  assert.equal(json.ok, true, text);
  return json.offset;
}

const opts = { ignore: skip !== null, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name: "dist vm: no Deno in the guest; --version runs before any network exists",
  async fn() {
    const r = await guest();
    assert.ok(r.done, `guest did not finish; console tail:\n${r.console.slice(-4000)}`);
    assert.equal(r.kv.get("has_deno"), "none");
    assert.equal(r.kv.get("network"), "0");
    assert.match(r.kv.get("version") ?? "", /^tempus \d+\.\d+\.\d+$/);
    console.log(
      `dist guest (${r.accel}): ${Math.round(r.ms / 1000)} s; --version first run ` +
        `${r.kv.get("first_run_s")} s (unpack), then ${r.kv.get("second_run_s")} s`,
    );
  },
});

Deno.test({
  ...opts,
  name: "dist vm: tempus sync steps a clock 1 h off; tempus daemon disciplines the clock",
  async fn() {
    const r = await guest();
    assert.ok(Math.abs(offset(r, "sync_before") - 3600) < 5);
    const synced = offset(r, "sync_after");
    assert.ok(Math.abs(synced) < 0.05, `after sync ${synced}`);
    const log = (r.out.get("daemon_log") ?? []).join("\n");
    assert.match(log, /System clock was stepped/, log);
    const after = offset(r, "after");
    assert.ok(Math.abs(after) < 0.005, `after the daemon ${after}\n${log}`);
    const tick = /tick:\s+(\d+)/.exec((r.out.get("adjtimex") ?? []).join("\n"));
    assert.ok(tick && Math.abs(Number(tick[1]) - 10000) <= 1, `tick ${tick?.[1]}`);
    console.log(
      `sync -> ${(synced * 1e3).toFixed(3)} ms; daemon: ${(after * 1e3).toFixed(3)} ms after ` +
        `40 s from +3 s and +500 ppm (kernel tick ${tick[1]})`,
    );
  },
});
