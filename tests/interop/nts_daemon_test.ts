/**
 * NTS in the daemons, against the real peers (certificates from a private CA the test makes
 * with the openssl CLI; chronyd always -x, tempus always -x):
 * - tempus daemon `server ... nts` -> chronyd 4.x NTS server: selected, `chronyc authdata`
 *   shows NTS with cookies, the cookies are kept in ntsdumpdir; chronyd restarted with new
 *   server keys answers the old cookies with NTS NAKs and tempus re-keys and stays in sync.
 * - A server certificate from another CA, and an expired one, are refused at NTS-KE (no
 *   NTP request ever goes out); `nocerttimecheck 1` accepts the expired one until the first
 *   clock update, after which NTS-KE runs again with the dates checked and refuses it.
 */
import assert from "node:assert/strict";
import {
  freeUdpPort,
  haveBinary,
  REPO_ROOT,
  runCommand,
  startBackground,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { startTempusDaemon } from "../helpers/tempus_daemon.ts";
import { freeTcpPort, makeCa, makeServerCertificate } from "../helpers/nts_certs.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";

const ignore = !haveBinary("chronyd") || !haveBinary("chronyc") || !haveBinary("openssl") ||
  !opensslAvailable();

/** chronyd -x serving NTS-KE on `kePort` with `cert`, its server keys in `keyDir`. */
function chronydNts(dir: string, cert: string, kePort: number, keyDir: string, port?: number) {
  return startChronydServer({
    port,
    extra: [
      `ntsserverkey ${dir}/${cert}.key`,
      `ntsservercert ${dir}/${cert}.crt`,
      `ntsport ${kePort}`,
      `ntsdumpdir ${keyDir}`,
    ],
  });
}

/** The authdata line of 127.0.0.1 as fields, or null. */
function authLine(text: string): string[] | null {
  const line = text.split("\n").find((l) => l.startsWith("127.0.0.1"));
  return line === undefined ? null : line.trim().split(/\s+/);
}

Deno.test({
  name:
    "NTS daemon: tempus NTS client of chronyd's NTS server; authdata; dump; re-key after server key change",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-daemon-" });
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      const kePort = freeTcpPort();
      for (const d of ["keys1", "keys2", "cookies"]) await Deno.mkdir(`${dir}/${d}`);
      let chronyd = await chronydNts(dir, "server", kePort, `${dir}/keys1`);
      const port = chronyd.port;
      const tempus = await startTempusDaemon(port, [
        `ntstrustedcerts ${dir}/ca.crt`,
        "nosystemcert",
        `ntsdumpdir ${dir}/cookies`,
      ], { serverOptions: `iburst minpoll -1 maxpoll 0 nts ntsport ${kePort}` });
      try {
        await tempus.waitSelected(30_000);
        const auth = await tempus.chronycUnix("authdata");
        console.log(auth);
        const f = authLine(auth);
        assert.ok(f !== null, auth);
        // Name Mode KeyID Type KLen Last Atmp NAK Cook CLen
        assert.equal(f[1], "NTS");
        assert.equal(f[2], "1");
        assert.equal(f[3], "15");
        assert.equal(f[4], "256");
        assert.equal(f[7], "0");
        assert.equal(f[8], "8");
        assert.ok(Number(f[9]) >= 64, `cookie length ${f[9]}`);
        const ntpdata = await tempus.chronycUnix("ntpdata", "127.0.0.1");
        assert.match(ntpdata, /Authenticated\s*:\s*Yes/);
        const dumps = [...Deno.readDirSync(`${dir}/cookies`)].map((e) => e.name);
        assert.ok(dumps.some((n) => n.endsWith(".nts")), dumps.join());

        // chronyd restarts with new server keys: the old cookies get NTS NAKs, tempus re-keys.
        await chronyd.stop();
        chronyd = await chronydNts(dir, "server", kePort, `${dir}/keys2`, port);
        let last = "";
        await waitFor(
          async () => {
            last = await tempus.chronycUnix("authdata");
            const g = authLine(last);
            return g !== null && Number(g[2]) >= 2 && g[8] === "8";
          },
          30_000,
          "tempus to re-key",
        ).catch((e) => {
          throw new Error(`${e.message}\n${last}\n${tempus.output()}`);
        });
        assert.match(tempus.output(), /NTS NAK/);
        await tempus.waitSelected(30_000);
      } finally {
        await tempus.stop();
        await chronyd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "NTS daemon: wrong CA and expired certificate refused at NTS-KE; nocerttimecheck accepts the expired one",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-certs-" });
    try {
      await makeCa(dir, "ca");
      await makeCa(dir, "otherca");
      await makeServerCertificate(dir, "ca", "old", true);
      const kePort = freeTcpPort();
      await Deno.mkdir(`${dir}/keys`);
      const chronyd = await chronydNts(dir, "old", kePort, `${dir}/keys`);
      const server = `iburst minpoll -1 maxpoll 0 nts ntsport ${kePort}`;
      try {
        for (
          const [trust, pattern] of [
            ["otherca", /certificate verif|unable to get local issuer/i],
            ["ca", /certificate has expired|certificate verif/i],
          ] as const
        ) {
          const tempus = await startTempusDaemon(chronyd.port, [
            `ntstrustedcerts ${dir}/${trust}.crt`,
            "nosystemcert",
          ], { serverOptions: server });
          try {
            await waitFor(
              () => /NTS-KE with 127\.0\.0\.1.*failed/.test(tempus.output()),
              15_000,
              "the NTS-KE failure",
            ).catch((e) => {
              throw new Error(`${e.message}\n${tempus.output()}`);
            });
            assert.match(tempus.output(), pattern);
            const sources = await tempus.chronycUnix("sources");
            assert.doesNotMatch(sources, /^\^. 127\.0\.0\.1/m, "no unauthenticated source added");
          } finally {
            await tempus.stop();
          }
        }
        const tempus = await startTempusDaemon(chronyd.port, [
          `ntstrustedcerts ${dir}/ca.crt`,
          "nosystemcert",
          "nocerttimecheck 1",
        ], { serverOptions: server });
        try {
          await tempus.waitSelected(30_000);
          // After that one update the certificate is checked again, now with its dates: the
          // expired one is refused and its keys are not used any more.
          await waitFor(
            () =>
              /checking the certificate of 127\.0\.0\.1 again[\s\S]*NTS-KE with 127\.0\.0\.1 failed \(.*expired/
                .test(tempus.output()),
            15_000,
            "the certificate re-check after nocerttimecheck",
          ).catch((e) => {
            throw new Error(`${e.message}\n${tempus.output()}`);
          });
        } finally {
          await tempus.stop();
        }
      } finally {
        await chronyd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "NTS daemon: chronyd -x NTS client of the tempus daemon's NTS server; authdata on chronyd",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-serve-" });
    let client: ReturnType<typeof startBackground> | null = null;
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      const upstream = await startChronydServer();
      const kePort = freeTcpPort();
      const ntpPort = freeUdpPort();
      await Deno.mkdir(`${dir}/keys`);
      const tempus = await startTempusDaemon(upstream.port, [
        "allow 127.0.0.1",
        `port ${ntpPort}`,
        "bindaddress 127.0.0.1",
        `ntsserverkey ${dir}/server.key`,
        `ntsservercert ${dir}/server.crt`,
        `ntsport ${kePort}`,
        `ntsdumpdir ${dir}/keys`,
      ]);
      try {
        await tempus.waitSelected(30_000);
        const cmdPort = freeUdpPort();
        await Deno.writeTextFile(
          `${dir}/client.conf`,
          [
            `server 127.0.0.1 port ${ntpPort} iburst minpoll -1 maxpoll 0 nts ntsport ${kePort}`,
            `ntstrustedcerts ${dir}/ca.crt`,
            "nosystemcert",
            `cmdport ${cmdPort}`,
            "bindcmdaddress 127.0.0.1",
            `bindcmdaddress ${dir}/client.sock`,
            `pidfile ${dir}/client.pid`,
            `ntsdumpdir ${dir}/client`,
            "",
          ].join("\n"),
        );
        client = startBackground("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/client.conf`]);
        const chronyc = async (...args: string[]) =>
          (await runCommand("chronyc", ["-n", "-h", `${dir}/client.sock`, ...args])).stdout;
        let auth = "";
        let sources = "";
        await waitFor(
          async () => {
            auth = await chronyc("authdata");
            sources = await chronyc("sources");
            const f = authLine(auth);
            return f !== null && f[1] === "NTS" && Number(f[8]) >= 7 &&
              /^\^[*+] 127\.0\.0\.1/m.test(sources);
          },
          30_000,
          "chronyd to select tempus over NTS",
        ).catch((e) => {
          throw new Error(
            `${e.message}\n${auth}\n${sources}\n${client!.output()}\n${tempus.output()}`,
          );
        });
        console.log(auth);
        const f = authLine(auth)!;
        assert.equal(f[3], "15"); // AEAD_AES_SIV_CMAC_256
        assert.equal(f[9], "100"); // tempus's cookie length (as chronyd's)
        const stats = await tempus.chronycUnix("serverstats");
        assert.match(stats, /NTS-KE connections accepted\s*:\s*[1-9]/, stats);
        assert.match(stats, /Authenticated NTP packets\s*:\s*[1-9]/, stats);
        const key = JSON.parse(await Deno.readTextFile(`${dir}/keys/ntskeys`));
        assert.equal(key.keys.length, 1);
      } finally {
        await client?.stop();
        await tempus.stop();
        await upstream.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "NTS daemon: under the sandbox (./tempus, no -A) the NTS client selects chronyd and dumps cookies",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-sandbox-" });
    await Deno.chmod(dir, 0o755);
    let daemon: ReturnType<typeof startBackground> | null = null;
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      const kePort = freeTcpPort();
      await Deno.mkdir(`${dir}/keys`);
      await Deno.mkdir(`${dir}/cookies`);
      await Deno.mkdir(`${dir}/run`, { mode: 0o750 });
      const chronyd = await chronydNts(dir, "server", kePort, `${dir}/keys`);
      try {
        await Deno.writeTextFile(
          `${dir}/t.conf`,
          [
            `server 127.0.0.1 port ${chronyd.port} iburst minpoll -1 maxpoll 0 nts ntsport ${kePort}`,
            `ntstrustedcerts ${dir}/ca.crt`,
            "nosystemcert",
            `ntsdumpdir ${dir}/cookies`,
            `pidfile ${dir}/run/t.pid`,
            "cmdport 0",
            `bindcmdaddress ${dir}/run/t.sock`,
            `driftfile ${dir}/drift`,
            "",
          ].join("\n"),
        );
        daemon = startBackground(`${REPO_ROOT}tempus`, [
          "daemon",
          "-x",
          "-d",
          "-f",
          `${dir}/t.conf`,
        ]);
        const chronyc = async (...args: string[]) =>
          (await runCommand("chronyc", ["-n", "-h", `${dir}/run/t.sock`, ...args])).stdout;
        let auth = "";
        let sources = "";
        await waitFor(
          async () => {
            auth = await chronyc("authdata");
            sources = await chronyc("sources");
            return /NTS\s+1\s+15\s+256/.test(auth) && /^\^\* 127\.0\.0\.1/m.test(sources);
          },
          30_000,
          "the sandboxed daemon to select chronyd over NTS",
        ).catch((e) => {
          throw new Error(`${e.message}\n${auth}\n${sources}\n${daemon!.output()}`);
        });
        const dumps = [...Deno.readDirSync(`${dir}/cookies`)].map((e) => e.name);
        assert.deepEqual(dumps, ["127.0.0.1@127.0.0.1.nts"]);
      } finally {
        await daemon?.stop();
        await chronyd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
