/**
 * dist/tempus under a real systemd: a Debian bookworm guest (debootstrap rootfs cached in
 * /var/cache/tempus-vm, systemd as PID 1, no Deno in it) boots under qemu; dist/tempus,
 * dist/tempus.service and dist/tempus-wait-sync.service are installed as dist/README.md
 * says, against a chronyd -x on the host reached through qemu's user network. One boot; the
 * tests assert what tests/vm/systemd_guest/run.sh reported. Skipped with one line when qemu,
 * the kernel, chronyd or the cached rootfs is missing (`./deno task vm:rootfs` builds it).
 */
import assert from "node:assert/strict";
import { buildDist } from "../../scripts/dist.ts";
import { chronydPath, startHostNtp } from "./host_ntp.ts";
import { systemdImageMissing } from "./rootfs.ts";
import { vmSkipReason } from "./runner.ts";
import { bootSystemdVm, type GuestReport } from "./systemd_vm.ts";

const skip = vmSkipReason() ??
  (chronydPath() === null ? "systemd VM test skipped: chronyd not installed" : null) ??
  systemdImageMissing();
if (skip) console.log(skip);

/** Seconds the guest clock starts ahead before the service is enabled. */
const PLANT_SECONDS = 3;

let boot: Promise<GuestReport> | null = null;
function guest(): Promise<GuestReport> {
  boot ??= (async () => {
    const dist = await buildDist();
    const ntp = await startHostNtp();
    try {
      return await bootSystemdVm({
        dist: dist.output,
        ntpPort: ntp.port,
        plantSeconds: PLANT_SECONDS,
        disciplineSeconds: 30,
        timeoutMs: 420_000,
      });
    } finally {
      await ntp.stop();
    }
  })();
  return boot;
}

function kv(r: GuestReport, key: string): string {
  const v = r.kv.get(key);
  assert.ok(v !== undefined, `guest reported no ${key}; console tail:\n${r.console.slice(-3000)}`);
  return v;
}

function lines(r: GuestReport, name: string): string[] {
  return r.out.get(name) ?? [];
}

function props(r: GuestReport, name: string): Record<string, string> {
  return Object.fromEntries(
    lines(r, name).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

function queryOffset(r: GuestReport, name: string): number {
  const text = lines(r, name).join("\n");
  const json = JSON.parse(text.slice(text.indexOf("{")));
  assert.equal(json.ok, true, text);
  return json.offset;
}

const opts = { ignore: skip !== null, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name: "systemd vm: boots with systemd as PID 1; dist/tempus runs with no Deno installed",
  async fn() {
    const r = await guest();
    assert.ok(r.done, `harness did not finish; console tail:\n${r.console.slice(-4000)}`);
    assert.equal(kv(r, "systemd_pid1"), "systemd");
    assert.equal(kv(r, "has_deno"), "none");
    assert.match(kv(r, "version"), /^tempus \d+\.\d+\.\d+$/);
    assert.equal(kv(r, "config_check_rc"), "0", lines(r, "config_check").join("\n"));
    console.log(
      `systemd guest (${r.accel}): ${Math.round(r.ms / 1000)} s in all; tempus --version ` +
        `first run ${kv(r, "first_run_s")} s (unpack), then ${kv(r, "second_run_s")} s; ` +
        `cache ${kv(r, "cache_dir")}`,
    );
  },
});

Deno.test({
  ...opts,
  name: "systemd vm: tempus sync steps the guest clock 1 h back onto the host's server",
  async fn() {
    const r = await guest();
    const before = queryOffset(r, "sync_before");
    assert.ok(Math.abs(before - 3600) < 5, `offset before sync ${before}`);
    const after = queryOffset(r, "sync_after");
    assert.ok(Math.abs(after) < 0.05, `offset after sync ${after}\n${lines(r, "sync").join("\n")}`);
    console.log(
      `sync: ${before.toFixed(3)} s -> ${(after * 1e3).toFixed(3)} ms in ${kv(r, "sync_s")} s`,
    );
  },
});

Deno.test({
  ...opts,
  name:
    "systemd vm: Type=notify reaches active as user tempus with CAP_SYS_TIME + CAP_NET_BIND_SERVICE",
  async fn() {
    const r = await guest();
    assert.equal(kv(r, "useradd"), "0");
    assert.equal(kv(r, "enable_rc"), "0");
    const p = props(r, "show_started");
    assert.equal(p.Type, "notify");
    assert.equal(p.ActiveState, "active");
    assert.equal(p.SubState, "running");
    assert.equal(p.NRestarts, "0");
    assert.equal(kv(r, "main_user"), "tempus");
    const status = Object.fromEntries(
      lines(r, "proc_status").map((l) => l.split(/:\s*/)).map(([k, v]) => [k, v.trim()]),
    );
    // CAP_NET_BIND_SERVICE = 10, CAP_SYS_TIME = 25.
    const want = ((1n << 10n) | (1n << 25n)).toString(16).padStart(16, "0");
    assert.equal(status.CapEff, want, JSON.stringify(status));
    assert.equal(status.CapPrm, want);
    assert.equal(status.CapBnd, want);
    assert.equal(status.CapAmb, want);
    assert.equal(status.NoNewPrivs, "1");
    assert.equal(status.Seccomp, "2", "the SystemCallFilter is in force");
    const argv = lines(r, "cmdline");
    assert.ok(!argv.includes("-A") && !argv.includes("--allow-all"), argv.join(" "));
    assert.ok(argv.some((a) => a.startsWith("--allow-read=")), argv.join(" "));
    assert.ok(argv.some((a) => a.startsWith("--allow-write=")), argv.join(" "));
    console.log(
      `READY=1 ${
        ((Number(p.ActiveEnterTimestampMonotonic) - Number(p.ExecMainStartTimestampMonotonic)) /
          1e6).toFixed(2)
      } s after exec; flags: ${argv.filter((a) => a.startsWith("--allow")).join(" ")}`,
    );
  },
});

Deno.test({
  ...opts,
  name:
    "systemd vm: time-sync.target is reached after synchronisation, and the clock is disciplined",
  async fn() {
    const r = await guest();
    assert.equal(kv(r, "time_sync_before"), "inactive");
    assert.equal(kv(r, "enable_rc"), "0");
    const w = props(r, "show_wait");
    assert.equal(w.Result, "success");
    const t = props(r, "show_target");
    assert.equal(t.ActiveState, "active");
    assert.ok(
      Number(t.ActiveEnterTimestampMonotonic) >= Number(w.ExecMainExitTimestampMonotonic),
      `time-sync.target at ${t.ActiveEnterTimestampMonotonic}, wait-sync exited ${w.ExecMainExitTimestampMonotonic}`,
    );
    const tracking = lines(r, "tracking_at_sync").join("\n");
    assert.match(tracking, /Leap status\s*: Normal/, tracking);
    // The clock started 500 ppm fast (tick 10005): the daemon's frequency takes it back.
    const tick = /tick:\s+(\d+)/.exec(lines(r, "adjtimex").join("\n"));
    assert.ok(tick, lines(r, "adjtimex").join("\n"));
    assert.ok(Math.abs(Number(tick[1]) - 10000) <= 1, `kernel tick ${tick[1]}`);
    const after = queryOffset(r, "after");
    assert.ok(
      Math.abs(after) < 0.005,
      `offset after disciplining ${after}\n${lines(r, "tracking").join("\n")}`,
    );
    console.log(
      `enable --now returned after ${kv(r, "enable_s")} s (READY=1, then synchronised); ` +
        `offset at the end ` +
        `${(after * 1e3).toFixed(3)} ms (clock started ${PLANT_SECONDS} s ahead, +500 ppm)\n` +
        lines(r, "tracking").join("\n"),
    );
  },
});

Deno.test({
  ...opts,
  name: "systemd vm: reload keeps it running, stop is clean, journal priorities are right",
  async fn() {
    const r = await guest();
    assert.equal(kv(r, "reload_rc"), "0");
    assert.equal(kv(r, "pid_after_reload"), kv(r, "main_pid"));
    assert.equal(kv(r, "active_after_reload"), "active");
    assert.equal(kv(r, "stop_rc"), "0");
    const s = props(r, "show_stopped");
    assert.equal(s.ActiveState, "inactive");
    assert.equal(s.Result, "success", JSON.stringify(s));
    assert.equal(s.ExecMainStatus, "0");
    assert.equal(kv(r, "drift_owner"), "tempus");
    assert.equal(lines(r, "sigsys").filter((l) => /seccomp|sig=31/i.test(l)).length, 0);
    const journal = lines(r, "journal").map((l) => JSON.parse(l) as Record<string, string>);
    const find = (re: RegExp) => journal.find((e) => re.test(e.MESSAGE ?? ""));
    const start = find(/tempus starting/);
    assert.ok(start, journal.map((e) => e.MESSAGE).join("\n"));
    assert.equal(start.PRIORITY, "6");
    const stepped = find(/System clock was stepped/);
    assert.ok(stepped, journal.map((e) => e.MESSAGE).join("\n"));
    assert.equal(stepped.PRIORITY, "4");
    assert.ok(!journal.some((e) => /^<\d>/.test(e.MESSAGE ?? "")), "no raw <N> prefixes");
  },
});
