/**
 * NTS between the tempus daemon and ntpsec 1.2 ntpd, both ways, in a network namespace the
 * test creates and removes (ntpsec's NTS-KE port 4460 and NTP port 123 are fixed; `disable
 * ntp`: it never touches the clock; tempus runs with -x). Certificates come from a private CA
 * made by the test.
 * - tempus NTS client -> ntpsec NTS server: NTS-KE gives 8 cookies, ntpsec's replies verify
 *   (chronyc ntpdata: authenticated, valid RX > 0) and keep the jar full. ntpsec with
 *   `disable ntp` and no reference of its own stays unsynchronised (leap 3), so tempus, like
 *   chronyd, does not select it: selection is not what this test can show.
 * - ntpsec NTS client -> tempus NTS server (`local stratum 3`): ntpsec's NTS-KE with tempus
 *   succeeds, and tempus answers its NTS requests (serverstats: authenticated NTP packets).
 */
import assert from "node:assert/strict";
import {
  findBinary,
  haveBinary,
  REPO_ROOT,
  runCommand,
  startBackground,
  waitFor,
} from "../helpers/peers.ts";
import { makeCa, makeServerCertificate } from "../helpers/nts_certs.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";

const NTPSEC = findBinary("ntpd", ["/opt/ntpsec/usr/sbin"]);
const ignore = NTPSEC === null || !NTPSEC.startsWith("/opt/ntpsec") || !haveBinary("ip") ||
  !haveBinary("chronyc") || !haveBinary("openssl") || !opensslAvailable() || Deno.uid() !== 0;

async function ip(...args: string[]): Promise<void> {
  const out = await runCommand("ip", args);
  assert.equal(out.code, 0, `ip ${args.join(" ")}: ${out.stderr}`);
}

/** `tempus daemon -x -d` inside namespace `ns` with `lines`; its Unix socket is `dir/t.sock`. */
function tempusIn(ns: string, dir: string, lines: string[]) {
  return startBackground("ip", [
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "-A",
    "--unstable-net",
    "--quiet",
    `${REPO_ROOT}mod.ts`,
    "daemon",
    "-x",
    "-d",
    `pidfile ${dir}/t.pid`,
    `driftfile ${dir}/t.drift`,
    "cmdport 0",
    `bindcmdaddress ${dir}/t.sock`,
    ...lines,
  ]);
}

async function chronyc(dir: string, ...args: string[]): Promise<string> {
  const out = await runCommand("chronyc", ["-n", "-h", `${dir}/t.sock`, ...args]);
  return out.stdout + out.stderr;
}

Deno.test({
  name:
    "NTS ntpsec: tempus NTS client of ntpsec's NTS server; ntpsec NTS client of tempus's NTS server",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-ntpsec-" });
    await Deno.chmod(dir, 0o700);
    const ns = `tempus-nts-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
    const running: ReturnType<typeof startBackground>[] = [];
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      await ip("netns", "add", ns);
      await ip("-n", ns, "link", "set", "lo", "up");

      // 1. tempus client -> ntpsec server.
      await Deno.writeTextFile(
        `${dir}/server.conf`,
        [
          "disable ntp",
          "nts enable",
          `nts cert ${dir}/server.crt`,
          `nts key ${dir}/server.key`,
          `nts cookie ${dir}/ntskeys`,
          "",
        ].join("\n"),
      );
      const ntpd = startBackground("ip", [
        "netns",
        "exec",
        ns,
        NTPSEC!,
        "-n",
        "-c",
        `${dir}/server.conf`,
      ]);
      running.push(ntpd);
      await waitFor(
        () =>
          /Private Key OK/.test(ntpd.output()) &&
          /Listen normally on \d+ lo 127/.test(ntpd.output()),
        10_000,
        "ntpsec's NTS-KE server",
      );
      const client = tempusIn(ns, dir, [
        "server 127.0.0.1 iburst minpoll -1 maxpoll 0 nts",
        `ntstrustedcerts ${dir}/ca.crt`,
        "nosystemcert",
      ]);
      running.push(client);
      let auth = "";
      let ntpdata = "";
      await waitFor(
        async () => {
          auth = await chronyc(dir, "authdata");
          ntpdata = await chronyc(dir, "ntpdata", "127.0.0.1");
          const valid = Number(/Total valid RX\s*:\s*(\d+)/.exec(ntpdata)?.[1] ?? 0);
          return /^127\.0\.0\.1\s+NTS\s+1\s+15\s+256\s+\S+\s+\d+\s+0\s+8\s+\d+/m.test(auth) &&
            valid >= 3;
        },
        30_000,
        "tempus's NTS exchanges with ntpsec",
      ).catch((e) => {
        throw new Error(`${e.message}\n${auth}\n${ntpdata}\n${client.output()}\n${ntpd.output()}`);
      });
      console.log(auth);
      assert.match(ntpdata, /Authenticated\s*:\s*Yes/);
      await client.stop();
      await ntpd.stop();
      running.length = 0;

      // 2. ntpsec client -> tempus server (NTP on 1123: ntpsec binds 123 itself).
      await Deno.mkdir(`${dir}/keys`);
      const server = tempusIn(ns, dir, [
        "local stratum 3",
        "allow 127.0.0.1",
        "port 1123",
        "bindaddress 127.0.0.1",
        `ntsserverkey ${dir}/server.key`,
        `ntsservercert ${dir}/server.crt`,
        `ntsdumpdir ${dir}/keys`,
      ]);
      running.push(server);
      await waitFor(
        () => /NTS-KE server listening/.test(server.output()),
        15_000,
        "tempus's NTS-KE server",
      );
      await Deno.writeTextFile(
        `${dir}/client.conf`,
        [
          "disable ntp",
          `nts ca ${dir}/ca.crt`,
          "server localhost nts iburst minpoll 3 maxpoll 3",
          "",
        ].join("\n"),
      );
      const ntpc = startBackground("ip", [
        "netns",
        "exec",
        ns,
        NTPSEC!,
        "-n",
        "-c",
        `${dir}/client.conf`,
      ]);
      running.push(ntpc);
      let stats = "";
      await waitFor(
        async () => {
          stats = await chronyc(dir, "serverstats");
          return Number(/Authenticated NTP packets\s*:\s*(\d+)/.exec(stats)?.[1] ?? 0) >= 2;
        },
        40_000,
        "ntpsec's NTS requests to tempus",
      ).catch((e) => {
        throw new Error(`${e.message}\n${stats}\n${ntpc.output()}\n${server.output()}`);
      });
      console.log(ntpc.output().split("\n").filter((l) => /NTS/.test(l)).join("\n"));
      assert.match(ntpc.output(), /NTSc: Got \d+ cookies/);
    } finally {
      for (const p of running.reverse()) await p.stop().catch(() => {});
      await runCommand("ip", ["netns", "del", ns]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
