/**
 * Interop of symmetric-key authentication with the real chrony (chronyd -x / -Q only; the
 * host clock is never touched):
 *
 * - tempus as the client of a chronyd server with a keyfile (SHA1, MD5, AES128, SHA256): it
 *   synchronises with the right key (chronyc ntpdata: "Authenticated : Yes") and never with a
 *   wrong one;
 * - chronyd -Q as the client of a tempus daemon serving with a keyfile: it measures with the
 *   right key and gets no usable reply with a wrong one.
 */
import assert from "node:assert/strict";
import {
  freeUdpPort,
  haveBinary,
  ntpAnswers,
  runCommand,
  startBackground,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { startTempusDaemon, tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const KEYS: Record<string, string> = {
  SHA1: "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7",
  MD5: "1 MD5 HEX:EEC59B2C20E7D077929B4F6A11D5E3C2",
  AES128: "1 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D",
  // Longer than an NTPv4 MAC allows: both sides fall back to NTPv3 with the full digest.
  SHA256: "1 SHA256 HEX:00112233445566778899AABBCCDDEEFF0011223344556677",
};
const WRONG: Record<string, string> = {
  SHA1: "1 SHA1 HEX:29C12E347D12C16E1712D64604145A767B7628C7",
  MD5: "1 MD5 HEX:FEC59B2C20E7D077929B4F6A11D5E3C2",
  AES128: "1 AES128 HEX:0AB72067F047CE06ED1BE7BE97E19B6D",
  SHA256: "1 SHA256 HEX:10112233445566778899AABBCCDDEEFF0011223344556677",
};

const ignore = !haveBinary("chronyd") || !haveBinary("chronyc");

async function keyFile(line: string): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-keys-" });
  const path = `${dir}/keys`;
  await Deno.writeTextFile(path, `# test key\n${line}\n`);
  await Deno.chmod(path, 0o640);
  return { dir, path };
}

for (const type of Object.keys(KEYS)) {
  Deno.test({
    name: `auth interop: tempus (key 1, ${type}) synchronises to chronyd; a wrong key never`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const serverKeys = await keyFile(KEYS[type]);
      const rightKeys = await keyFile(KEYS[type]);
      const wrongKeys = await keyFile(WRONG[type]);
      const chronyd = await startChronydServer({ extra: [`keyfile ${serverKeys.path}`] });
      try {
        const good = await startTempusDaemon(chronyd.port, [`keyfile ${rightKeys.path}`], {
          serverOptions: "iburst minpoll -1 maxpoll 1 key 1",
        });
        try {
          await good.waitSelected(20_000);
          const nd = await good.chronycUnix("ntpdata", "127.0.0.1");
          assert.match(nd, /Authenticated\s*:\s*Yes/, nd);
          assert.match(nd, /Total good RX\s*:\s*[1-9]/, nd);
          const good5 = nd.match(/Total good RX\s*:\s*(\d+)/)?.[1];
          console.log(`${type}: tempus selected chronyd, good RX ${good5}`);
        } finally {
          await good.stop();
        }
        const bad = await startTempusDaemon(chronyd.port, [`keyfile ${wrongKeys.path}`], {
          serverOptions: "iburst minpoll -1 maxpoll 1 key 1",
        });
        try {
          await new Promise((r) => setTimeout(r, 6000));
          const sources = await bad.chronyc("sources");
          assert.doesNotMatch(sources, /^\^\*/m, sources);
          const nd = await bad.chronycUnix("ntpdata", "127.0.0.1");
          // chronyd does not answer a request whose MAC does not verify (no crypto-NAK).
          assert.match(nd, /Total TX\s*:\s*[1-9]/, nd);
          assert.match(nd, /Total valid RX\s*:\s*0\b/, nd);
        } finally {
          await bad.stop();
        }
      } finally {
        await chronyd.stop();
        for (const k of [serverKeys, rightKeys, wrongKeys]) {
          await Deno.remove(k.dir, { recursive: true }).catch(() => {});
        }
      }
    },
  });
}

/** Runs chronyd -Q with a keyfile against 127.0.0.1:port; returns its output. */
async function chronydQ(keyPath: string, port: number, timeout: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-chronyq-" });
  try {
    const out = await runCommand("chronyd", [
      "-Q",
      "-u",
      "root",
      "-t",
      `${timeout}`,
      `pidfile ${dir}/q.pid`,
      "cmdport 0",
      `keyfile ${keyPath}`,
      `server 127.0.0.1 port ${port} iburst key 1`,
    ], (timeout + 5) * 1000);
    return out.stdout + out.stderr;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

for (const type of Object.keys(KEYS)) {
  Deno.test({
    name: `auth interop: chronyd -Q (key 1, ${type}) measures a keyed tempus server`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const serverKeys = await keyFile(KEYS[type]);
      const rightKeys = await keyFile(KEYS[type]);
      const wrongKeys = await keyFile(WRONG[type]);
      const dir = await Deno.makeTempDir({ prefix: "tempus-authsrv-" });
      const port = freeUdpPort();
      const tempus = startBackground(
        Deno.execPath(),
        tempusDaemonArgs([
          "-x",
          "-d",
          "local stratum 1",
          "allow 127.0.0.1",
          "bindaddress 127.0.0.1",
          `port ${port}`,
          "cmdport 0",
          `bindcmdaddress ${dir}/tempus.sock`,
          `pidfile ${dir}/tempus.pid`,
          `keyfile ${serverKeys.path}`,
        ]),
      );
      try {
        await waitFor(() => ntpAnswers("127.0.0.1", port), 15_000, "tempus to serve NTP")
          .catch((e) => {
            throw new Error(`${e.message}\n${tempus.output()}`);
          });
        const right = await chronydQ(rightKeys.path, port, 10);
        const m = right.match(/System clock wrong by ([-+0-9.eE]+) seconds/);
        assert.ok(m !== null, right);
        assert.ok(Math.abs(Number(m[1])) < 1e-3, right);
        console.log(`${type}: chronyd -Q measured ${m[1]} s against tempus`);
        const wrong = await chronydQ(wrongKeys.path, port, 4);
        assert.doesNotMatch(wrong, /System clock wrong by/, wrong);
      } finally {
        await tempus.stop();
        for (const k of [serverKeys, rightKeys, wrongKeys]) {
          await Deno.remove(k.dir, { recursive: true }).catch(() => {});
        }
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name: "auth interop: tempus refuses to start when a source's key is not in the keyfile",
  ignore: false,
  async fn() {
    const keys = await keyFile(KEYS.SHA1);
    const dir = await Deno.makeTempDir({ prefix: "tempus-authbad-" });
    try {
      const out = await runCommand(Deno.execPath(), [
        ...tempusDaemonArgs([
          "-x",
          "-d",
          `pidfile ${dir}/p.pid`,
          "cmdport 0",
          `bindcmdaddress ${dir}/s.sock`,
          `keyfile ${keys.path}`,
          "server 127.0.0.1 port 9 key 2",
        ]),
      ], 20_000);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr + out.stdout, /uses key 2, which keyfile .* does not define/);
    } finally {
      await Deno.remove(keys.dir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
