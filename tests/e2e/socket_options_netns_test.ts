/**
 * binddevice, bindacqdevice, bindacqaddress and dscp on the wire, in two network namespaces
 * joined by a veth pair (10.213.0.1 on "va" in A, 10.213.0.2 on "vb" in B): chronyd -x
 * serves in A; tempus daemon -x runs in B, polls it and serves too.
 *
 * - bindacqdevice vb + bindacqaddress 10.213.0.2: tempus gets replies; every request tshark
 *   sees on va carries DSCP 46 (dscp 46), and so do tempus's server replies.
 * - bindacqdevice lo: the requests cannot leave (the route is on vb): no reply ever.
 * - binddevice lo: tempus's server does not answer ntpdig from A; binddevice vb: it does.
 *
 * Needs root, ip(8), tshark, ntpdig and chronyd; skipped otherwise. The namespaces are
 * removed at the end; the host's own network is never touched.
 */
import assert from "node:assert/strict";
import { findChronyd, haveBinary, runCommand, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const CHRONYD = findChronyd();
const ignore = Deno.uid() !== 0 || CHRONYD === null || !haveBinary("ip") ||
  !haveBinary("tshark") || !haveBinary("ntpdig");

const tag = `${Deno.pid % 10000}`;
const NS_A = `tempus-so-a-${tag}`;
const NS_B = `tempus-so-b-${tag}`;

async function sh(args: string[], timeoutMs = 20_000): Promise<string> {
  const r = await runCommand(args[0], args.slice(1), timeoutMs);
  if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function setUp(): Promise<void> {
  await sh(["ip", "netns", "add", NS_A]);
  await sh(["ip", "netns", "add", NS_B]);
  await sh(["ip", "link", "add", "va", "netns", NS_A, "type", "veth", "peer", "vb", "netns", NS_B]);
  for (const [ns, dev, addr] of [[NS_A, "va", "10.213.0.1/24"], [NS_B, "vb", "10.213.0.2/24"]]) {
    await sh(["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
    await sh(["ip", "-n", ns, "link", "set", dev, "up"]);
    await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }
}

async function tearDown(): Promise<void> {
  for (const ns of [NS_A, NS_B]) {
    await runCommand("ip", ["netns", "pids", ns]).then((r) => {
      for (const pid of r.stdout.split("\n").filter((p) => p.trim() !== "")) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
    });
    await runCommand("ip", ["netns", "del", ns]);
  }
}

function readPid(path: string): number {
  return Number.parseInt(Deno.readTextFileSync(path).trim(), 10);
}

async function stop(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = readPid(pidFile);
  } catch {
    return;
  }
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  await waitFor(
    async () => !(await Deno.stat(`/proc/${pid}`).then(() => true, () => false)),
    10_000,
    "exit",
  );
}

/** Starts chronyd -x in A serving on 10.213.0.1 (stratum 1 from its local clock). */
async function startChronyd(dir: string): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/chronyd.conf`,
    [
      `pidfile ${dir}/chronyd.pid`,
      "local stratum 1",
      "allow",
      "bindaddress 10.213.0.1",
      "cmdport 0",
      `bindcmdaddress ${dir}/chronyd.sock`,
    ].join("\n") + "\n",
  );
  await sh([
    "ip",
    "netns",
    "exec",
    NS_A,
    CHRONYD!,
    "-x",
    "-u",
    "root",
    "-f",
    `${dir}/chronyd.conf`,
  ]);
}

/** Starts tempus daemon -x in B (background; returns when ready) with `extra` directives. */
async function startTempus(dir: string, extra: string[]): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/tempus.conf`,
    [
      `pidfile ${dir}/tempus.pid`,
      "server 10.213.0.1 iburst minpoll -2 maxpoll -2",
      "allow",
      "bindaddress 10.213.0.2",
      "cmdport 0",
      `bindcmdaddress ${dir}/tempus.sock`,
      ...extra,
    ].join("\n") + "\n",
  );
  await sh([
    "ip",
    "netns",
    "exec",
    NS_B,
    Deno.execPath(),
    ...tempusDaemonArgs(["-x", "-f", `${dir}/tempus.conf`, "-l", `${dir}/tempus.log`]),
  ], 60_000);
}

async function ntpdata(dir: string): Promise<string> {
  const r = await runCommand("chronyc", [
    "-h",
    `${dir}/tempus.sock`,
    "-n",
    "ntpdata",
    "10.213.0.1",
  ]);
  return r.stdout;
}

function totalRx(ntpdataText: string): number {
  return Number(ntpdataText.match(/^Total RX\s+:\s+(\d+)/m)?.[1] ?? "0");
}

Deno.test({
  name: "binddevice/bindacqdevice/bindacqaddress/dscp in two network namespaces",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "tempus-netns-" });
    await tearDown();
    try {
      await setUp();
      await startChronyd(dir);

      await t.step(
        "bindacqdevice vb + dscp 46: replies arrive; requests and replies carry DSCP 46",
        async () => {
          const capture = runCommand("ip", [
            "netns",
            "exec",
            NS_A,
            "tshark",
            "-i",
            "va",
            "-f",
            "udp port 123",
            "-a",
            "duration:8",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "udp.srcport",
            "-e",
            "ip.dsfield.dscp",
          ], 30_000);
          await new Promise((r) => setTimeout(r, 1500)); // tshark starts listening
          await startTempus(dir, [
            "bindacqdevice vb",
            "bindacqaddress 10.213.0.2",
            "binddevice vb",
            "dscp 46",
          ]);
          try {
            await waitFor(async () => totalRx(await ntpdata(dir)) > 0, 15_000, "a reply to tempus");
            // A client in A asks tempus's server (bound to vb) for the time.
            const q = await runCommand("ip", [
              "netns",
              "exec",
              NS_A,
              "ntpdig",
              "-t",
              "2",
              "10.213.0.2",
            ]);
            assert.equal(q.code, 0, `ntpdig against tempus: ${q.stdout}${q.stderr}`);
            const text = (await capture).stdout;
            const fromTempus = text.split("\n").filter((l) => l.startsWith("10.213.0.2\t"));
            assert.ok(fromTempus.length >= 2, text);
            for (const line of fromTempus) assert.match(line, /\t46$/, `DSCP of ${line}`);
            assert.ok(fromTempus.some((l) => l.split("\t")[1] === "123"), "a server reply");
            assert.ok(fromTempus.some((l) => l.split("\t")[1] !== "123"), "a client request");
          } finally {
            await stop(`${dir}/tempus.pid`);
          }
        },
      );

      await t.step("bindacqdevice lo: requests cannot leave, no reply ever", async () => {
        await startTempus(dir, ["bindacqdevice lo"]);
        try {
          await new Promise((r) => setTimeout(r, 4000));
          assert.equal(totalRx(await ntpdata(dir)), 0);
        } finally {
          await stop(`${dir}/tempus.pid`);
        }
      });

      await t.step("binddevice lo: tempus's server does not answer on vb", async () => {
        await startTempus(dir, ["binddevice lo"]);
        try {
          const q = await runCommand("ip", [
            "netns",
            "exec",
            NS_A,
            "ntpdig",
            "-t",
            "2",
            "10.213.0.2",
          ]);
          assert.notEqual(q.code, 0, `ntpdig got an answer: ${q.stdout}`);
        } finally {
          await stop(`${dir}/tempus.pid`);
        }
      });
    } finally {
      await stop(`${dir}/chronyd.pid`);
      await tearDown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
