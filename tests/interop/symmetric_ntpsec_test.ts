/**
 * Symmetric associations and orphan mode with the real ntpsec ntpd 1.2 (and chronyd 4.3),
 * each in a network namespace of its own on a bridged lab network (tests/helpers/
 * netns_lab.ts), because ntpd's NTP port is fixed at 123. ntpd runs with `disable ntp` (its
 * clock free-runs), chronyd and tempus with -x: no host clock is touched.
 *
 * ntpsec 1.2 no longer has symmetric associations: its `peer` directive is "deprecated,
 * treated as server" (it polls in client mode), and it answers a mode-1 packet statelessly
 * in mode 2, as chrony does. So "tempus and ntpd as peers" is: tempus's `peer` association
 * (mode 1 out, ntpd's mode-2 answers measured) and ntpd's `peer` line polling tempus as a
 * server (tempus allows it). ntpq gets no mode-6 answer from this ntpd build (its requests
 * time out, tried with -4 and -d), so ntpd's choice is read from what it serves: its
 * stratum and reference ID in an NTP reply (`tempus query --json`).
 *
 * - ntpd's `peer tempus` follows tempus (which serves a local reference): ntpd serves
 *   stratum 4 with tempus's address as reference ID. tempus's `peer ntpd` association sends
 *   mode 1 but gets nothing back: ntpsec 1.2.2 drops mode-1 packets (its receive() accepts
 *   modes 3, 4 and 6 only; the stateless mode-2 answer came after 1.2.2), which the test
 *   pins down so that a newer ntpsec shows up as a change.
 * - Orphan mode: tempus (`local stratum 5 orphan`), chronyd (`local stratum 5 orphan`) and
 *   ntpd (`tos orphan 5`) all follow a common upstream (a chronyd at stratum 1); tempus and
 *   chronyd are symmetric peers and ntpd polls both; the upstream is cut off; all three then
 *   agree on one orphan parent - the member with the lowest address, tempus - at stratum 5,
 *   the two others at 6 with tempus's address as reference ID.
 */
import assert from "node:assert/strict";
import { findBinary, haveBinary, REPO_ROOT, waitFor } from "../helpers/peers.ts";
import { type LabHost, labPossible, makeLab } from "../helpers/netns_lab.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const NTPD = findBinary("ntpd", ["/opt/ntpsec/usr/sbin"]);
const ignore = NTPD === null || !NTPD.startsWith("/opt/ntpsec") || !haveBinary("chronyd") ||
  !haveBinary("chronyc") || !(await labPossible());
/** The command port of tempus and chronyd inside their own namespaces. */
const CMD_PORT = 1323;

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-sym-ntpsec-" });
  await Deno.chmod(dir, 0o700);
  return dir;
}

function startTempus(host: LabHost, dir: string, directives: string[]) {
  return host.start(
    Deno.execPath(),
    tempusDaemonArgs([
      "-x",
      "-d",
      ...directives,
      `cmdport ${CMD_PORT}`,
      "bindcmdaddress 127.0.0.1",
      `pidfile ${dir}/tempus.pid`,
    ]),
  );
}

async function startNtpd(host: LabHost, dir: string, directives: string[]) {
  await Deno.writeTextFile(
    `${dir}/ntp.conf`,
    ["disable ntp", `driftfile ${dir}/ntp.drift`, ...directives, ""].join("\n"),
  );
  return host.start(NTPD!, ["-n", "-c", `${dir}/ntp.conf`]);
}

async function startChronyd(host: LabHost, dir: string, name: string, directives: string[]) {
  await Deno.writeTextFile(
    `${dir}/${name}.conf`,
    [
      ...directives,
      `cmdport ${CMD_PORT}`,
      "bindcmdaddress 127.0.0.1",
      `bindcmdaddress ${dir}/${name}.sock`,
      `pidfile ${dir}/${name}.pid`,
      "",
    ].join("\n"),
  );
  return host.start("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/${name}.conf`]);
}

function chronyc(host: LabHost, ...args: string[]): Promise<string> {
  return host.run("chronyc", ["-n", "-h", "127.0.0.1", "-p", `${CMD_PORT}`, ...args]);
}

/** What `host` announces in an NTP reply, asked from `from` (synchronised or not). */
async function served(
  from: LabHost,
  host: LabHost,
): Promise<{ ok: boolean; leap: number; stratum: number; refId: string }> {
  const out = await from.run(
    Deno.execPath(),
    [
      "run",
      "-A",
      "--unstable-net",
      "--quiet",
      `${REPO_ROOT}tests/helpers/ntp_probe.ts`,
      host.address,
    ],
  );
  try {
    return JSON.parse(out.trim().split("\n").pop() ?? "");
  } catch {
    return { ok: false, leap: 3, stratum: 0, refId: "" };
  }
}

Deno.test({
  name: "symmetric interop: ntpsec 1.2.2's `peer tempus` follows tempus; it drops tempus's mode 1",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    const lab = await makeLab("symnt", ["tempus", "ntpd"], 81);
    const [t, n] = lab.hosts;
    try {
      const tempus = startTempus(t, dir, [
        "local stratum 3",
        `peer ${n.address} minpoll 3 maxpoll 3`,
        "allow 10.77.81.0/24",
      ]);
      const ntpd = await startNtpd(n, dir, [`peer ${t.address} minpoll 3 maxpoll 3`]);
      let q = await served(t, n);
      await waitFor(
        async () => {
          q = await served(t, n);
          return q.stratum === 4 && q.refId === t.address;
        },
        120_000,
        "ntpd to follow tempus",
      ).catch((e) => {
        throw new Error(`${e.message}\n${JSON.stringify(q)}\n${tempus.output()}\n${ntpd.output()}`);
      });
      assert.match(ntpd.output(), /peer deprecated, treated as server/);
      const nd = await chronyc(t, "ntpdata", n.address);
      console.log(`ntpd serves ${JSON.stringify(q)}; tempus ntpdata:\n${nd}`);
      const tx = /Total TX\s+: (\d+)/.exec(nd);
      assert.ok(tx !== null && Number(tx[1]) >= 3, nd);
      assert.match(nd, /Total RX\s+: 0\b/);
    } finally {
      await lab.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "orphan interop: tempus, chronyd and ntpsec lose their upstream and agree on one parent",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    // Addresses .1 tempus, .2 chronyd, .3 ntpd, .4 the common upstream (chronyd stratum 1).
    const lab = await makeLab("symor", ["tempus", "chronyd", "ntpd", "up"], 82);
    const [t, c, n, u] = lab.hosts;
    try {
      await startChronyd(u, dir, "up", ["local stratum 1", "allow all"]);
      // Orphan members: a local reference at stratum 5 in orphan mode that takes over once
      // the root distance passes 1 ms (maxclockerror 100 ppm makes that ~10 s after the
      // upstream goes), peered with each other; ntpd polls everyone (its `peer` is a server).
      // A short sample history (maxsamples 8) lets the silent upstream go stale within
      // seconds (chrony: its newest sample older than the peers' oldest). ntpd (`disable
      // ntp`) announces leap 3 while it follows someone, so it is nobody's source here.
      const member = [
        `server ${u.address} minpoll 0 maxpoll 0`,
        "local stratum 5 orphan distance 0.001",
        "maxclockerror 100",
        "maxsamples 8",
        "allow 10.77.82.0/24",
      ];
      const tempus = startTempus(t, dir, [...member, `peer ${c.address} minpoll 0 maxpoll 1`]);
      const chronyd = await startChronyd(c, dir, "member", [
        ...member,
        `peer ${t.address} minpoll 0 maxpoll 1`,
      ]);
      const ntpd = await startNtpd(n, dir, [
        "tos orphan 5 orphanwait 1",
        `server ${u.address} minpoll 3 maxpoll 3`,
        `server ${t.address} minpoll 3 maxpoll 3`,
        `server ${c.address} minpoll 3 maxpoll 3`,
      ]);
      const output = () => [tempus.output(), chronyd.output(), ntpd.output()].join("\n----\n");
      // 1. All three follow the upstream.
      let state = "";
      await waitFor(
        async () => {
          const tt = await chronyc(t, "tracking");
          const ct = await chronyc(c, "tracking");
          const q = await served(t, n);
          state = `${tt}\n${ct}\n${JSON.stringify(q)}`;
          return /Reference ID\s+: 0A4D5204/.test(tt) && /Reference ID\s+: 0A4D5204/.test(ct) &&
            q.refId === u.address;
        },
        120_000,
        "all three to follow the upstream",
      ).catch((e) => {
        throw new Error(`${e.message}\n${state}\n${output()}`);
      });
      // 2. The upstream goes away.
      const cut = performance.now();
      await lab.setLink(u, false);
      // 3. One orphan parent: tempus (lowest address) serves its local reference at stratum
      //    5; chronyd and ntpd follow it at stratum 6.
      let tt = "";
      let ct = "";
      let q = await served(t, n);
      await waitFor(
        async () => {
          tt = await chronyc(t, "tracking");
          ct = await chronyc(c, "tracking");
          q = await served(t, n);
          return /Stratum\s+: 5/.test(tt) && /Reference ID\s+: 7F7F0101/.test(tt) &&
            /Stratum\s+: 6/.test(ct) && /Reference ID\s+: 0A4D5201/.test(ct) &&
            q.stratum === 6 && q.refId === t.address;
        },
        420_000,
        "one orphan parent",
      ).catch(async (e) => {
        const ts = await chronyc(t, "sources");
        const cs = await chronyc(c, "sources");
        throw new Error(
          `${e.message}\n${tt}\n${ts}\n${ct}\n${cs}\n${JSON.stringify(q)}\n${output()}`,
        );
      });
      const settled = ((performance.now() - cut) / 1000).toFixed(0);
      console.log(`settled ${settled} s after the cut\ntempus:\n${tt}\nchronyd:\n${ct}`);
      console.log(`ntpd serves: ${JSON.stringify(q)}`);
      // And chronyd's offset to its parent is small: one agreed time.
      const offset = /Last offset\s+: ([-+0-9.]+) seconds/.exec(ct);
      assert.ok(offset !== null && Math.abs(Number(offset[1])) < 1e-3, ct);
    } finally {
      await lab.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
