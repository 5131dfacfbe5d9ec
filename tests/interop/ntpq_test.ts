/**
 * ntpsec's real ntpq (mode 6) against a tempus daemon: `ntpq -p`, `ntpq -c rv`, `ntpq -c as`
 * and `ntpq -c "rv ASSOCID"` print tempus's association and variables; a query from an
 * address that is not loopback gets no answer by default. ntpq only talks to port 123, so
 * tempus (and its chronyd upstream) run in a network namespace this test creates and
 * removes; the clock is never touched (tempus -x, chronyd -x).
 */
import assert from "node:assert/strict";
import {
  findBinary,
  findChronyd,
  haveBinary,
  REPO_ROOT,
  runCommand,
  startBackground,
  waitFor,
} from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const NTPQ = findBinary("/opt/ntpsec/usr/bin/ntpq") ?? findBinary("ntpq");
const CHRONYD = findChronyd();
const ignore = NTPQ === null || CHRONYD === null || !haveBinary("ip") || Deno.uid() !== 0;
/** The upstream's port inside the namespace (nothing else listens there). */
const UPSTREAM_PORT = 1123;
/** A non-loopback address of the namespace's lo, for the "stranger" query. */
const STRANGER = "192.0.2.66";

Deno.test({
  name: "ntpq (ntpsec) -p, -c rv, -c as, -c 'rv ASSOCID' against tempus (in a netns)",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ns = `mode6-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
    const dir = await Deno.makeTempDir({ prefix: "tempus-ntpq-" });
    const started: ReturnType<typeof startBackground>[] = [];
    const inNs = (cmd: string, args: string[], timeoutMs = 30_000) =>
      runCommand("ip", ["netns", "exec", ns, cmd, ...args], timeoutMs, { cwd: REPO_ROOT });
    const ntpq = async (...args: string[]) => {
      const out = await inNs(NTPQ!, args, 30_000);
      return out.stdout + out.stderr;
    };
    try {
      for (
        const args of [
          ["netns", "add", ns],
          ["-n", ns, "link", "set", "lo", "up"],
          ["-n", ns, "addr", "add", `${STRANGER}/32`, "dev", "lo"],
        ]
      ) {
        const out = await runCommand("ip", args);
        assert.equal(out.code, 0, `ip ${args.join(" ")}: ${out.stderr}`);
      }
      await Deno.writeTextFile(
        `${dir}/chronyd.conf`,
        [
          "local stratum 1",
          "allow 127.0.0.0/8",
          "bindaddress 127.0.0.1",
          `port ${UPSTREAM_PORT}`,
          "cmdport 0",
          `pidfile ${dir}/chronyd.pid`,
          `driftfile ${dir}/chronyd.drift`,
          "",
        ].join("\n"),
      );
      started.push(startBackground("ip", [
        "netns",
        "exec",
        ns,
        CHRONYD!,
        "-x",
        "-d",
        "-u",
        "root",
        "-f",
        `${dir}/chronyd.conf`,
      ]));
      const tempus = startBackground("ip", [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        ...tempusDaemonArgs([
          "-x",
          "-d",
          `server 127.0.0.1 port ${UPSTREAM_PORT} iburst minpoll 0 maxpoll 0`,
          "allow 127.0.0.1",
          "cmdport 0",
          `pidfile ${dir}/tempus.pid`,
          `driftfile ${dir}/tempus.drift`,
        ]),
      ]);
      started.push(tempus);
      let peers = "";
      await waitFor(
        async () => {
          peers = await ntpq("-n", "-p", "127.0.0.1");
          return /^\*127\.0\.0\.1 /m.test(peers);
        },
        30_000,
        "ntpq -p to show tempus's upstream selected",
      ).catch((e) => {
        throw new Error(`${e.message}\nntpq -p:\n${peers}\ntempus:\n${tempus.output()}`);
      });
      console.log(`ntpq -n -p:\n${peers}`);
      assert.match(peers, /^\s+remote\s+refid\s+st t when poll reach\s+delay\s+offset\s+jitter$/m);
      // *127.0.0.1  <refid>  st 1, unicast, when, poll 1, reach (octal), delay, offset, jitter
      const row = peers.split("\n").find((l) => l.startsWith("*127.0.0.1"))!;
      const cols = row.slice(1).trim().split(/\s+/);
      assert.equal(cols[2], "1", `stratum in ${row}`);
      assert.equal(cols[3], "u", `type in ${row}`);
      assert.equal(cols[5], "1", `poll in ${row}`);
      assert.match(cols[6], /^[1-7]+$/, `reach in ${row}`);
      for (const c of cols.slice(7, 10)) assert.ok(Number.isFinite(Number(c)), `${c} in ${row}`);

      const rv = await ntpq("-c", "rv", "127.0.0.1");
      console.log(`ntpq -c rv:\n${rv}`);
      assert.match(rv, /^associd=0 status=06\d\d leap_none, sync_ntp/m);
      assert.match(rv, /stratum=2,/);
      assert.match(rv, /refid=127\.0\.0\.1,/);
      assert.match(rv, /leap=00,/);
      assert.match(rv, /version="tempus [^"]+"/);
      for (const name of ["rootdelay", "rootdisp", "offset", "sys_jitter", "frequency", "tc"]) {
        assert.match(rv, new RegExp(`\\b${name}=-?[0-9.e-]+`), name);
      }
      assert.match(rv, /reftime=[0-9a-f]{8}\.[0-9a-f]{8} 20\d\d-/);
      assert.match(rv, /clock=[0-9a-f]{8}\.[0-9a-f]{8} 20\d\d-/);

      const as = await ntpq("-c", "as", "127.0.0.1");
      console.log(`ntpq -c as:\n${as}`);
      const assoc = as.match(/^\s+1\s+(\d+)\s+96[0-9a-f]{2}\s+yes\s+yes\s+none\s+sys\.peer/m);
      assert.ok(assoc, as);

      const peerVars = await ntpq("-c", `rv ${assoc[1]}`, "127.0.0.1");
      console.log(`ntpq -c "rv ${assoc[1]}":\n${peerVars}`);
      assert.match(peerVars, new RegExp(`^associd=${assoc[1]} status=96`, "m"));
      assert.match(peerVars, /srcadr=127\.0\.0\.1,/);
      assert.match(peerVars, new RegExp(`srcport=${UPSTREAM_PORT},`));
      assert.match(peerVars, /stratum=1,/);
      assert.match(peerVars, /reach=[0-7]+,/);
      assert.match(peerVars, /hmode=3,/);
      assert.match(peerVars, /flash=00 ok/);

      // IPv6 loopback is answered too; an address that is not loopback gets nothing.
      assert.match(await ntpq("-c", "rv 0 stratum", "::1"), /stratum=2/);
      const stranger = await ntpq("-c", "timeout 300", "-c", "rv", STRANGER);
      assert.doesNotMatch(stranger, /stratum=/);
      assert.match(stranger, /timed out/i);
    } finally {
      for (const bg of started.reverse()) await bg.stop();
      await runCommand("ip", ["netns", "del", ns]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
