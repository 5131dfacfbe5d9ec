/**
 * Symmetric associations (modes 1 and 2) with the real chronyd 4.3 (`chronyd -x`: the host
 * clock is never touched; tempus runs with -x too). Both are configured `peer` to each other
 * on loopback, each on its own NTP port; one of them serves a local reference (stratum 3):
 *
 * - chronyd has the reference: tempus follows it (`chronyc sources` against tempus shows
 *   `=*`, `ntpdata` says "Symmetric active"), and chronyd measures tempus's answers (its
 *   `=` line has a non-zero reach);
 * - tempus has the reference: chronyd follows it (`=*` on chronyd, mode "Symmetric active"
 *   in chronyd's ntpdata), and tempus measures chronyd's answers;
 * - with a symmetric key on both sides (`key 1`) the same holds and both report the
 *   association authenticated; with different keys neither takes the other's packets;
 * - with `xleave` on both sides the exchange turns interleaved (RFC 9769 symmetric mode):
 *   both `ntpdata` reports say "Interleaved : Yes".
 */
import assert from "node:assert/strict";
import {
  type Background,
  freeUdpPort,
  haveBinary,
  runCommand,
  startBackground,
  waitFor,
} from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const ignore = !haveBinary("chronyd") || !haveBinary("chronyc");

interface Pair {
  /** chronyc against tempus (UDP command port). */
  tempus(...args: string[]): Promise<string>;
  /** chronyc against chronyd (UDP for reports, the Unix socket for ntpdata). */
  chronyd(...args: string[]): Promise<string>;
  /** Both processes' output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

async function chronyc(args: string[]): Promise<string> {
  const out = await runCommand("chronyc", ["-n", ...args]);
  return out.stdout + out.stderr;
}

/** Starts chronyd and tempus peered to each other; `reference` serves local stratum 3. */
async function startPair(
  reference: "chronyd" | "tempus",
  keys: { chronyd: string; tempus: string } | null = null,
  xleave = false,
): Promise<Pair> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-sym-" });
  await Deno.chmod(dir, 0o700);
  const chronyPort = freeUdpPort();
  const tempusPort = freeUdpPort();
  const chronyCmd = freeUdpPort();
  const tempusCmd = freeUdpPort();
  const keyOption = (keys === null ? "" : " key 1") + (xleave ? " xleave" : "");
  const procs: Background[] = [];
  try {
    if (keys !== null) {
      await Deno.writeTextFile(`${dir}/chrony.keys`, `1 SHA1 HEX:${keys.chronyd}\n`);
      await Deno.writeTextFile(`${dir}/tempus.keys`, `1 SHA1 HEX:${keys.tempus}\n`);
      await Deno.chmod(`${dir}/tempus.keys`, 0o600);
    }
    await Deno.writeTextFile(
      `${dir}/chronyd.conf`,
      [
        reference === "chronyd" ? "local stratum 3" : "",
        `port ${chronyPort}`,
        "bindaddress 127.0.0.1",
        `cmdport ${chronyCmd}`,
        "bindcmdaddress 127.0.0.1",
        `bindcmdaddress ${dir}/chronyd.sock`,
        `peer 127.0.0.1 port ${tempusPort} minpoll 0 maxpoll 1${keyOption}`,
        keys === null ? "" : `keyfile ${dir}/chrony.keys`,
        `pidfile ${dir}/chronyd.pid`,
      ].join("\n") + "\n",
    );
    procs.push(startBackground("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/chronyd.conf`]));
    procs.push(startBackground(
      Deno.execPath(),
      tempusDaemonArgs([
        "-x",
        "-d",
        ...(reference === "tempus" ? ["local stratum 3"] : []),
        `port ${tempusPort}`,
        "bindaddress 127.0.0.1",
        `peer 127.0.0.1 port ${chronyPort} minpoll 0 maxpoll 1${keyOption}`,
        ...(keys === null ? [] : [`keyfile ${dir}/tempus.keys`]),
        `cmdport ${tempusCmd}`,
        "bindcmdaddress 127.0.0.1",
        `pidfile ${dir}/tempus.pid`,
      ]),
    ));
  } catch (e) {
    for (const p of procs) await p.stop();
    throw e;
  }
  return {
    tempus: (...args) => chronyc(["-h", "127.0.0.1", "-p", `${tempusCmd}`, ...args]),
    chronyd: (...args) =>
      args[0] === "ntpdata"
        ? chronyc(["-h", `${dir}/chronyd.sock`, ...args])
        : chronyc(["-h", "127.0.0.1", "-p", `${chronyCmd}`, ...args]),
    output: () => procs.map((p) => p.output()).join("\n----\n"),
    async stop() {
      for (const p of procs) await p.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The reach (octal) of the `=` line for 127.0.0.1 in chronyc sources output, or null. */
function peerLine(sources: string): { state: string; reach: number } | null {
  const m = /^=(.) 127\.0\.0\.1\s+\d+\s+-?\d+\s+([0-7]+)/m.exec(sources);
  return m === null ? null : { state: m[1], reach: parseInt(m[2], 8) };
}

/** Waits until the follower shows `=*` and the reference's `=` line has a reach. */
async function waitBothWays(
  pair: Pair,
  follower: "tempus" | "chronyd",
): Promise<{ follower: string; reference: string }> {
  const reference = follower === "tempus" ? "chronyd" : "tempus";
  let f = "";
  let r = "";
  await waitFor(
    async () => {
      f = await pair[follower]("sources");
      r = await pair[reference]("sources");
      const fl = peerLine(f);
      const rl = peerLine(r);
      return fl?.state === "*" && rl !== null && rl.reach !== 0;
    },
    45_000,
    `${follower} to select its peer and ${reference} to hear it`,
  ).catch((e) => {
    throw new Error(`${e.message}\n${follower}:\n${f}\n${reference}:\n${r}\n${pair.output()}`);
  });
  return { follower: f, reference: r };
}

Deno.test({
  name: "symmetric interop: tempus follows its chronyd peer (=*), chronyd measures tempus",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pair = await startPair("chronyd");
    try {
      const s = await waitBothWays(pair, "tempus");
      console.log(`tempus:\n${s.follower}\nchronyd:\n${s.reference}`);
      const nd = await pair.tempus("ntpdata", "127.0.0.1");
      assert.match(nd, /Mode\s+: Symmetric active/);
      assert.match(nd, /Stratum\s+: 3/);
      const tracking = await pair.tempus("tracking");
      assert.match(tracking, /Stratum\s+: 4/);
      assert.match(tracking, /Reference ID\s+: 7F000001/);
      // chronyd takes tempus's packets as valid symmetric answers (it does not follow them:
      // tempus is synchronised to it, chrony's test D).
      const cd = await pair.chronyd("ntpdata", "127.0.0.1");
      assert.match(cd, /Mode\s+: Symmetric active/);
      const valid = /Total valid RX\s+: (\d+)/.exec(cd);
      assert.ok(valid !== null && Number(valid[1]) >= 3, cd);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "symmetric interop: chronyd follows its tempus peer (=*), tempus measures chronyd",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pair = await startPair("tempus");
    try {
      const s = await waitBothWays(pair, "chronyd");
      console.log(`chronyd:\n${s.follower}\ntempus:\n${s.reference}`);
      const cd = await pair.chronyd("ntpdata", "127.0.0.1");
      assert.match(cd, /Mode\s+: Symmetric active/);
      assert.match(cd, /Stratum\s+: 3/);
      const nd = await pair.tempus("ntpdata", "127.0.0.1");
      assert.match(nd, /Mode\s+: Symmetric active/);
      assert.match(nd, /Stratum\s+: 4/);
      const valid = /Total valid RX\s+: (\d+)/.exec(nd);
      assert.ok(valid !== null && Number(valid[1]) >= 3, nd);
    } finally {
      await pair.stop();
    }
  },
});

const KEY = "19C12E347D12C16E1712D64604145A767B7628C7";

Deno.test({
  name: "symmetric interop: authenticated peers (key 1, SHA1); different keys never talk",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pair = await startPair("chronyd", { chronyd: KEY, tempus: KEY });
    try {
      await waitBothWays(pair, "tempus");
      assert.match(await pair.tempus("ntpdata", "127.0.0.1"), /Authenticated\s+: Yes/);
      assert.match(await pair.chronyd("ntpdata", "127.0.0.1"), /Authenticated\s+: Yes/);
    } finally {
      await pair.stop();
    }
    const wrong = await startPair("chronyd", { chronyd: KEY, tempus: KEY.replace("19", "29") });
    try {
      await new Promise((r) => setTimeout(r, 12_000));
      const nd = await wrong.tempus("ntpdata", "127.0.0.1");
      assert.match(nd, /Total valid RX\s+: 0\b/, nd);
      const cd = await wrong.chronyd("ntpdata", "127.0.0.1");
      assert.match(cd, /Total valid RX\s+: 0\b/, cd);
      assert.equal(peerLine(await wrong.tempus("sources"))?.reach, 0);
    } finally {
      await wrong.stop();
    }
  },
});

/** Waits until `ntpdata` of one side says the peer's last packet was interleaved. */
async function waitInterleaved(pair: Pair, side: "tempus" | "chronyd"): Promise<string> {
  let nd = "";
  await waitFor(
    async () => {
      nd = await pair[side]("ntpdata", "127.0.0.1");
      return /Interleaved\s+: Yes/.test(nd);
    },
    45_000,
    `${side} to report an interleaved packet`,
  ).catch((e) => {
    throw new Error(`${e.message}\n${nd}\n${pair.output()}`);
  });
  return nd;
}

Deno.test({
  name: "symmetric interop: both peers xleave - interleaved both ways, samples still taken",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pair = await startPair("chronyd", null, true);
    try {
      await waitBothWays(pair, "tempus");
      const cd = await waitInterleaved(pair, "chronyd");
      const nd = await waitInterleaved(pair, "tempus");
      console.log(`chronyd ntpdata:\n${cd}\ntempus ntpdata:\n${nd}`);
      assert.match(cd, /Mode\s+: Symmetric active/);
      assert.match(nd, /Mode\s+: Symmetric active/);
      // tempus keeps following chronyd on interleaved samples (a good sample after the switch).
      const before = /Total good RX\s+: (\d+)/.exec(nd);
      assert.ok(before !== null, nd);
      await waitFor(
        async () => {
          const now = /Total good RX\s+: (\d+)/.exec(await pair.tempus("ntpdata", "127.0.0.1"));
          return now !== null && Number(now[1]) >= Number(before[1]) + 2;
        },
        30_000,
        "tempus to take more good samples in interleaved mode",
      );
      const after = await pair.tempus("ntpdata", "127.0.0.1");
      assert.match(after, /Interleaved\s+: Yes/, after);
      assert.equal(peerLine(await pair.tempus("sources"))?.state, "*");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "symmetric interop: both xleave, chronyd follows tempus on interleaved samples",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pair = await startPair("tempus", null, true);
    try {
      await waitBothWays(pair, "chronyd");
      await waitInterleaved(pair, "tempus");
      // chronyd's interleaved samples of tempus pass all its tests (its ntpdata: 1111).
      let cd = "";
      await waitFor(
        async () => {
          cd = await pair.chronyd("ntpdata", "127.0.0.1");
          return /Interleaved\s+: Yes/.test(cd) && /NTP tests\s+: 111 111 1111/.test(cd);
        },
        45_000,
        "chronyd to take a good interleaved sample of tempus",
      ).catch((e) => {
        throw new Error(`${e.message}\n${cd}\n${pair.output()}`);
      });
      console.log(`chronyd ntpdata:\n${cd}`);
      // It stays interleaved (one packet each way per interval) with the short delay of true
      // transmit times, where basic mode's daemon times show ~0.3 ms on loopback.
      const delays: number[] = [];
      let yes = 0;
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const c = await pair.chronyd("ntpdata", "127.0.0.1");
        if (!/Interleaved\s+: Yes/.test(c)) continue;
        yes++;
        delays.push(Number(/Peer delay\s+: ([0-9.]+)/.exec(c)?.[1]));
      }
      assert.ok(yes >= 5, `interleaved in ${yes} of 8 reports`);
      assert.ok(Math.min(...delays) < 100e-6, `delays ${delays}`);
      assert.equal(peerLine(await pair.chronyd("sources"))?.state, "*");
    } finally {
      await pair.stop();
    }
  },
});
