/**
 * Broadcast, multicast and manycast on the wire, in network namespaces the test makes and
 * removes: a hub namespace holding a bridge (multicast snooping off, so groups are flooded)
 * and four hosts A-D, each joined to it by a veth pair (10.215.0.1-4/24 on "vN"; the
 * IPv6 link-local addresses the kernel gives them; 224.0.0.0/4 routed to vN).
 *
 * - chronyd 4.3 `broadcast` in A -> tempus `broadcastclient unauthenticated` in B: the
 *   volley calibrates the delay, then B selects A (`^*`).
 * - tempus `broadcast ... key 1` in A -> tempus `broadcastclient` with key 1 in B selects it;
 *   C with a different key 1 mobilises nothing (only authenticated broadcasts count).
 * - tempus `broadcast` to 224.0.1.1 and ff05::101 in A -> tempus `multicastclient` in B
 *   (IPv4 group) and C (IPv6 group, A's link-local address) each select A.
 * - manycast: `manycastserver 224.0.1.1` in A; `manycastclient 224.0.1.1 maxsources 2` in B
 *   mobilises A; C and D start serving: B solicits again and ends with exactly two servers.
 * - ntpsec 1.2.2 has no broadcast client left (`ntpd -b` is refused): checked, not run.
 *
 * Needs root, ip(8), chronyd and chronyc; skipped otherwise. Namespace names carry the pid.
 */
import assert from "node:assert/strict";
import { findChronyd, haveBinary, runCommand, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const CHRONYD = findChronyd();
const NTPSEC = "/opt/ntpsec/usr/sbin/ntpd";
const HAVE_NTPSEC = (() => {
  try {
    return Deno.statSync(NTPSEC).isFile;
  } catch {
    return false;
  }
})();
const ignore = Deno.uid() !== 0 || CHRONYD === null || !haveBinary("ip") ||
  !haveBinary("chronyc");

const tag = `${Deno.pid % 100000}`;
const HUB = `tempus-bc-hub-${tag}`;
const HOSTS = ["a", "b", "c", "d"].map((n, i) => ({
  ns: `tempus-bc-${n}-${tag}`,
  dev: `v${n}`,
  ip: `10.215.0.${i + 1}`,
}));
const [A, B, C, D] = HOSTS;

async function sh(args: string[], timeoutMs = 20_000): Promise<string> {
  const r = await runCommand(args[0], args.slice(1), timeoutMs);
  if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function setUp(): Promise<void> {
  await sh(["ip", "netns", "add", HUB]);
  await sh(["ip", "-n", HUB, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
  await sh(["ip", "-n", HUB, "link", "set", "br0", "up"]);
  for (const h of HOSTS) {
    const hubEnd = `h${h.dev}`;
    await sh(["ip", "netns", "add", h.ns]);
    await sh([
      "ip",
      "link",
      "add",
      h.dev,
      "netns",
      h.ns,
      "type",
      "veth",
      "peer",
      hubEnd,
      "netns",
      HUB,
    ]);
    await sh(["ip", "-n", HUB, "link", "set", hubEnd, "master", "br0"]);
    await sh(["ip", "-n", HUB, "link", "set", hubEnd, "up"]);
    await sh(["ip", "-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", h.dev]);
    await sh(["ip", "-n", h.ns, "link", "set", h.dev, "up"]);
    await sh(["ip", "-n", h.ns, "link", "set", "lo", "up"]);
    await sh(["ip", "-n", h.ns, "route", "add", "224.0.0.0/4", "dev", h.dev]);
  }
  // IPv6 duplicate address detection must finish before link-local addresses can be used.
  await waitFor(
    async () => {
      const out = await Promise.all(HOSTS.map((h) => sh(["ip", "-n", h.ns, "-6", "addr"])));
      return out.every((o) => o.includes("fe80") && !o.includes("tentative"));
    },
    10_000,
    "IPv6 link-local addresses",
  );
}

async function tearDown(): Promise<void> {
  for (const ns of [...HOSTS.map((h) => h.ns), HUB]) {
    const r = await runCommand("ip", ["netns", "pids", ns]);
    for (const pid of r.stdout.split("\n").filter((p) => p.trim() !== "")) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    await runCommand("ip", ["netns", "del", ns]);
  }
}

/** A daemon started in a namespace, stopped through its pidfile. */
interface Running {
  name: string;
  dir: string;
}

async function stop(r: Running): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(Deno.readTextFileSync(`${r.dir}/${r.name}.pid`).trim(), 10);
  } catch {
    return;
  }
  const alive = () => Deno.stat(`/proc/${pid}`).then(() => true, () => false);
  try {
    Deno.kill(pid, "SIGTERM");
    await waitFor(async () => !(await alive()), 10_000, `${r.name} to exit`);
  } catch {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Kills whatever still runs in the hosts' namespaces and waits until none is left. */
async function killLeftovers(): Promise<void> {
  await waitFor(
    async () => {
      let left = 0;
      for (const h of HOSTS) {
        const r = await runCommand("ip", ["netns", "pids", h.ns]);
        for (const pid of r.stdout.split("\n").filter((p) => p.trim() !== "")) {
          left++;
          try {
            Deno.kill(Number(pid), "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      return left === 0;
    },
    10_000,
    "the namespaces to be empty",
  );
}

/** Starts tempus daemon -x in `host`'s namespace (returns when it is ready). */
async function tempus(
  dir: string,
  name: string,
  host: typeof A,
  lines: string[],
): Promise<Running> {
  await Deno.writeTextFile(
    `${dir}/${name}.conf`,
    [
      `pidfile ${dir}/${name}.pid`,
      "cmdport 0",
      `bindcmdaddress ${dir}/${name}.sock`,
      ...lines,
    ].join("\n") + "\n",
  );
  await sh([
    "ip",
    "netns",
    "exec",
    host.ns,
    Deno.execPath(),
    ...tempusDaemonArgs(["-x", "-f", `${dir}/${name}.conf`, "-l", `${dir}/${name}.log`]),
  ], 60_000);
  return { name, dir };
}

/** Starts chronyd -x in `host`'s namespace with `lines`. */
async function chronyd(dir: string, host: typeof A, lines: string[]): Promise<Running> {
  await Deno.writeTextFile(
    `${dir}/chronyd.conf`,
    [`pidfile ${dir}/chronyd.pid`, "cmdport 0", `bindcmdaddress ${dir}/chronyd.sock`, ...lines]
      .join("\n") + "\n",
  );
  await sh([
    "ip",
    "netns",
    "exec",
    host.ns,
    CHRONYD!,
    "-x",
    "-u",
    "root",
    "-f",
    `${dir}/chronyd.conf`,
  ]);
  return { name: "chronyd", dir };
}

async function sources(r: Running): Promise<string> {
  return (await runCommand("chronyc", ["-h", `${r.dir}/${r.name}.sock`, "-n", "sources"])).stdout;
}

/** Rows of `chronyc sources` (after the header). */
function rows(text: string): string[] {
  return text.split("\n").filter((l) => /^[\^=#][*+\-?x~ ]/.test(l));
}

async function waitSelected(r: Running, pattern: RegExp, timeoutMs = 40_000): Promise<string> {
  let last = "";
  try {
    await waitFor(
      async () => {
        last = await sources(r);
        return rows(last).some((l) => l.startsWith("^*") && pattern.test(l));
      },
      timeoutMs,
      `${r.name} to select ${pattern}`,
    );
  } catch (e) {
    const log = await Deno.readTextFile(`${r.dir}/${r.name}.log`).catch(() => "");
    throw new Error(`${e}\n${last}\n${log}`);
  }
  return last;
}

/** Daemons of the running step, stopped when it ends however it ends. */
const running: Running[] = [];

async function step(t: Deno.TestContext, name: string, fn: () => Promise<void>): Promise<void> {
  await t.step(name, async () => {
    try {
      await fn();
    } finally {
      for (const r of running.splice(0)) await stop(r);
      await killLeftovers();
    }
  });
}

function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "tempus-bc-" }); // 0700: the command socket's directory
}

Deno.test({
  name: "broadcast, multicast and manycast in network namespaces",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await tearDown();
    try {
      await setUp();

      await step(t, "chronyd broadcast -> tempus broadcastclient (volley, then ^*)", async () => {
        const dir = await tempDir();
        running.push(
          await chronyd(dir, A, ["local stratum 1", "allow", "broadcast 1 10.215.0.255"]),
        );
        const b = await tempus(dir, "b", B, ["broadcastclient unauthenticated"]);
        running.push(b);
        await waitSelected(b, /10\.215\.0\.1 /);
        await waitFor(
          async () => /calibrated from 4 exchanges/.test(await Deno.readTextFile(`${dir}/b.log`)),
          20_000,
          "the volley",
        );
        const log = await Deno.readTextFile(`${dir}/b.log`);
        assert.match(log, /Broadcast server 10\.215\.0\.1: delay .* calibrated from 4 exchanges/);
        // Then broadcasts: stratum 1, poll 0 (chronyd's 1 s interval).
        await waitSelected(b, /^\^\* 10\.215\.0\.1\s+1\s+0 /);
        const nd = await runCommand("chronyc", ["-h", `${dir}/b.sock`, "-n", "ntpdata"]);
        assert.match(nd.stdout, /Total TX\s+:\s+[4-8]\n/); // the volley, nothing after it
      });

      await step(
        t,
        "keyed tempus broadcast: the keyholder syncs, another key gets nothing",
        async () => {
          const dir = await tempDir();
          const key = "1 SHA1 HEX:1234567890ABCDEF1234567890ABCDEF12345678\n";
          const wrong = "1 SHA1 HEX:0000000000000000000000000000000000000001\n";
          await Deno.writeTextFile(`${dir}/key`, key, { mode: 0o600 });
          await Deno.writeTextFile(`${dir}/wrong`, wrong, { mode: 0o600 });
          running.push(
            await tempus(dir, "a", A, [
              "local stratum 2",
              "allow",
              `keyfile ${dir}/key`,
              "broadcast 1 10.215.0.255 key 1",
            ]),
          );
          const b = await tempus(dir, "b", B, [`keyfile ${dir}/key`, "broadcastclient"]);
          const c = await tempus(dir, "c", C, [`keyfile ${dir}/wrong`, "broadcastclient"]);
          running.push(b, c);
          // Calibrated and then on broadcasts: stratum 2, poll 0 (1 s).
          await waitSelected(b, /^\^\* 10\.215\.0\.1\s+2\s+0 /);
          const nd = await runCommand("chronyc", ["-h", `${dir}/b.sock`, "-n", "ntpdata"]);
          assert.match(nd.stdout, /Authenticated\s+:\s+Yes/);
          assert.equal(
            rows(await sources(c)).length,
            0,
            "a wrongly keyed client mobilised a source",
          );
        },
      );

      await step(
        t,
        "multicast: 224.0.1.1 and ff05::101 from tempus to two tempus clients",
        async () => {
          const dir = await tempDir();
          running.push(
            await tempus(dir, "a", A, [
              "local stratum 2",
              "allow",
              "broadcast 1 224.0.1.1",
              "broadcast 1 ff05::101",
            ]),
          );
          const b = await tempus(dir, "b", B, ["multicastclient 224.0.1.1 unauthenticated"]);
          const c = await tempus(dir, "c", C, ["multicastclient ff05::101 unauthenticated"]);
          running.push(b, c);
          await waitSelected(b, /10\.215\.0\.1 /);
          const v6 = await waitSelected(c, /fe80:/);
          assert.equal(rows(v6).length, 1, v6);
          assert.ok(
            !rows(await sources(b)).some((l) => l.includes("fe80:")),
            "B took the v6 group",
          );
        },
      );

      await step(t, "manycast: solicit, mobilise, re-solicit up to maxsources", async () => {
        const dir = await tempDir();
        const server = ["local stratum 3", "allow", "manycastserver 224.0.1.1"];
        running.push(await tempus(dir, "a", A, server));
        const b = await tempus(dir, "b", B, ["manycastclient 224.0.1.1 minpoll 2 maxsources 2"]);
        running.push(b);
        await waitSelected(b, /10\.215\.0\.1 /);
        assert.equal(rows(await sources(b)).length, 1);
        running.push(await tempus(dir, "c", C, server), await tempus(dir, "d", D, server));
        let text = "";
        await waitFor(
          async () => {
            text = await sources(b);
            return rows(text).length >= 2;
          },
          30_000,
          "a second manycast server",
        );
        await new Promise((r) => setTimeout(r, 9000)); // two more checks: still at the bound
        text = await sources(b);
        assert.equal(rows(text).length, 2, text);
        const log = await Deno.readTextFile(`${dir}/b.log`);
        assert.equal(log.match(/Manycast server \S+ mobilised/g)?.length, 2, log);
      });

      await t.step({
        name: "ntpsec 1.2.2 has no broadcast client to test against",
        ignore: !HAVE_NTPSEC,
        fn: async () => {
          const r = await runCommand(NTPSEC, ["-n", "-b", "-c", "/dev/null"]);
          assert.notEqual(r.code, 0);
          assert.match(r.stdout + r.stderr, /Obsolete and unsupported broadcast option -b/);
        },
      });
    } finally {
      for (const r of running) await stop(r).catch(() => {});
      await tearDown();
    }
  },
});
