/**
 * NTS interop with the real chrony (chronyd -x; the host clock is never touched): chronyd
 * serves NTS-KE with a certificate from a private CA made at test time by the openssl CLI;
 * tempus's NTS-KE client (src/nts/ke_client.ts) gets keys and cookies from it, refuses it
 * under the wrong CA or name, and then runs one NTS-protected NTP exchange with the fields
 * of src/nts/ntp_fields.ts.
 *
 * The other way round: chronyd -Q as NTS client of tempus's NTS-KE server (src/nts/ke_server.ts)
 * and of a test responder answering NTS requests with src/nts/server.ts.
 *
 * The same client against ntpsec's NTS server (`disable ntp`: no clock control), whose
 * NTS-KE (4460) and NTP (123) ports are fixed: it runs in a network namespace the test
 * creates and removes, and the client runs there too (`ip netns exec ... deno eval`).
 */
import assert from "node:assert/strict";
import {
  findBinary,
  haveBinary,
  REPO_ROOT,
  runCommand,
  startBackground,
  startChronydServer,
  waitFor,
} from "../helpers/peers.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { TlsError } from "../../ffi/openssl_tls.ts";
import { NtsKeError, ntsKeExchange } from "../../src/nts/ke_client.ts";
import { buildNtsRequest, verifyNtsReply } from "../../src/nts/ntp_fields.ts";
import { NtsSession, TARGET_COOKIES } from "../../src/nts/session.ts";
import { serveNtsKeConnection } from "../../src/nts/ke_server.ts";
import { buildNtsNak, buildNtsReply, checkNtsRequest } from "../../src/nts/server.ts";
import { type CookieKey, makeCookie } from "../../src/nts/cookies.ts";
import { decodePacket } from "../../src/ntp/packet.ts";
import type { NtpPacket } from "../../src/ntp/packet.ts";
import { instantToNtp64, ntp64Difference } from "../../src/ntp/timestamp.ts";

const ignore = !haveBinary("chronyd") || !haveBinary("openssl") || !opensslAvailable();

/** A TCP port nobody listens on right now. */
function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await runCommand("openssl", args, 30_000, { cwd: dir });
  if (out.code !== 0) throw new Error(`openssl ${args[0]} failed: ${out.stderr}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A private CA `caName`.crt / .key in `dir`. */
async function makeCa(dir: string, caName: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${caName}.key`,
    "-out",
    `${caName}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${caName}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
}

/** server.key / server.crt in `dir`, for localhost and 127.0.0.1, signed by `caName`. */
async function makeServerCertificate(dir: string, caName: string): Promise<void> {
  await openssl(
    dir,
    "req",
    ...EC,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    `${caName}.crt`,
    "-CAkey",
    `${caName}.key`,
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
}

function clientHeader(transmitTime: bigint): NtpPacket {
  return {
    leap: 0,
    version: 4,
    mode: 3,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    refTime: 0n,
    originTime: 0n,
    receiveTime: 0n,
    transmitTime,
    extensions: [],
    mac: null,
  };
}

function nowNtp(): bigint {
  // Sub-millisecond wall-clock time (Date.now() has only milliseconds).
  const ns = Math.round((performance.timeOrigin + performance.now()) * 1e3);
  return instantToNtp64(BigInt(ns) * 1000n);
}

Deno.test({
  name: "NTS interop: NTS-KE with chronyd gives keys and cookies; one NTS NTP exchange",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-" });
    try {
      await makeCa(dir, "ca");
      await makeCa(dir, "otherca");
      await makeServerCertificate(dir, "ca");
      const ntsPort = freeTcpPort();
      const chronyd = await startChronydServer({
        extra: [
          `ntsserverkey ${dir}/server.key`,
          `ntsservercert ${dir}/server.crt`,
          `ntsport ${ntsPort}`,
          `ntsdumpdir ${dir}`,
        ],
      });
      try {
        const ke = await ntsKeExchange({
          host: "127.0.0.1",
          port: ntsPort,
          serverName: "localhost",
          caFile: `${dir}/ca.crt`,
        });
        assert.equal(ke.aeadId, 15);
        assert.equal(ke.c2sKey.length, 32);
        assert.equal(ke.s2cKey.length, 32);
        assert.notDeepEqual(ke.c2sKey, ke.s2cKey);
        assert.ok(ke.cookies.length >= 1 && ke.cookies.length <= 16, `${ke.cookies.length}`);
        assert.equal(ke.ntpServer, "127.0.0.1");
        console.log(
          `NTS-KE: ${ke.cookies.length} cookies of ${ke.cookies[0].length} octets, ` +
            `NTP port ${ke.ntpPort} (chronyd NTP port ${chronyd.port})`,
        );

        // Wrong trust anchor and wrong name are refused by certificate verification.
        await assert.rejects(
          ntsKeExchange({
            host: "127.0.0.1",
            port: ntsPort,
            serverName: "localhost",
            caFile: `${dir}/otherca.crt`,
          }),
          (e: unknown) => e instanceof TlsError && /certificate verif/.test(e.message),
        );
        await assert.rejects(
          ntsKeExchange({
            host: "127.0.0.1",
            port: ntsPort,
            serverName: "not-this-host.example",
            caFile: `${dir}/ca.crt`,
          }),
          (e: unknown) => e instanceof TlsError && /certificate verif/.test(e.message),
        );
        await assert.rejects(
          ntsKeExchange({ host: "127.0.0.1", port: freeTcpPort(), caFile: `${dir}/ca.crt` }),
          NtsKeError,
        );

        // One NTS-protected exchange on the negotiated port.
        const uniqueId = crypto.getRandomValues(new Uint8Array(32));
        const nonce = crypto.getRandomValues(new Uint8Array(16));
        const t1 = nowNtp();
        const request = buildNtsRequest({
          header: clientHeader(t1),
          uniqueId,
          cookie: ke.cookies[0],
          placeholders: 1,
          c2sKey: ke.c2sKey,
          nonce,
        });
        const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
        const timer = setTimeout(() => socket.close(), 3000);
        try {
          await socket.send(request, {
            transport: "udp",
            hostname: ke.ntpServer,
            port: ke.ntpPort === 123 ? chronyd.port : ke.ntpPort,
          });
          const [bytes] = await socket.receive();
          const t4 = nowNtp();
          const verified = verifyNtsReply(bytes, ke.s2cKey, uniqueId);
          assert.ok(verified.ok, verified.ok ? "" : verified.error.message);
          const reply = verified.reply.packet;
          assert.equal(reply.mode, 4);
          assert.equal(reply.originTime, t1);
          assert.equal(
            verified.reply.cookies.length,
            2,
            "one cookie back plus one per placeholder",
          );
          const offset = (ntp64Difference(reply.receiveTime, t1) +
            ntp64Difference(reply.transmitTime, t4)) / 2;
          const delay = ntp64Difference(t4, t1) -
            ntp64Difference(reply.transmitTime, reply.receiveTime);
          console.log(
            `NTS NTP: offset ${(offset * 1e6).toFixed(1)} us, delay ${(delay * 1e6).toFixed(1)} us`,
          );
          assert.ok(Math.abs(offset) < 0.05, `offset ${offset}`);
          assert.ok(delay >= -0.001 && delay < 0.5, `delay ${delay}`);
          // A reply checked with the wrong key or another request's identifier is refused.
          assert.ok(!verifyNtsReply(bytes, ke.c2sKey, uniqueId).ok);
          assert.ok(!verifyNtsReply(bytes, ke.s2cKey, new Uint8Array(32)).ok);
        } finally {
          clearTimeout(timer);
          try {
            socket.close();
          } catch {
            // closed by the timer
          }
        }

        // An NtsSession over a fresh NTS-KE: a few exchanges keep the jar full, each reply
        // authenticated, with a different cookie every time.
        // By address: the name checked is 127.0.0.1, against the certificate's IP SAN.
        const again = await ntsKeExchange({
          host: "127.0.0.1",
          port: ntsPort,
          caFile: `${dir}/ca.crt`,
        });
        const session = new NtsSession(
          again,
          (n) => crypto.getRandomValues(new Uint8Array(n)),
        );
        const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
        const sockTimer = setTimeout(() => sock.close(), 5000);
        try {
          for (let i = 0; i < 3; i++) {
            const t1 = nowNtp();
            const request = session.buildRequest(clientHeader(t1));
            assert.ok(request !== null);
            await sock.send(request, {
              transport: "udp",
              hostname: "127.0.0.1",
              port: again.ntpPort,
            });
            const [bytes] = await sock.receive();
            const r = session.acceptReply(bytes);
            assert.ok(r.ok, r.ok ? "" : r.error.message);
            assert.equal(r.reply.packet.originTime, t1);
            assert.equal(session.cookieCount, TARGET_COOKIES);
          }
        } finally {
          clearTimeout(sockTimer);
          try {
            sock.close();
          } catch {
            // closed by the timer
          }
        }
      } finally {
        await chronyd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

const NTPSEC = findBinary("ntpd", ["/opt/ntpsec/usr/sbin"]);
const ntpsecIgnore = ignore || NTPSEC === null || !NTPSEC.startsWith("/opt/ntpsec") ||
  !haveBinary("ip") || Deno.uid() !== 0;

/** The client run inside the namespace: NTS-KE, then one exchange; prints one JSON line. */
function probeCode(caFile: string): string {
  const ke = new URL("src/nts/ke_client.ts", `file://${REPO_ROOT}`).href;
  const session = new URL("src/nts/session.ts", `file://${REPO_ROOT}`).href;
  const ts = new URL("src/ntp/timestamp.ts", `file://${REPO_ROOT}`).href;
  return `
import { ntsKeExchange } from "${ke}";
import { NtsSession } from "${session}";
import { instantToNtp64, ntp64Difference } from "${ts}";
const ke = await ntsKeExchange({ host: "127.0.0.1", serverName: "localhost", caFile: ${
    JSON.stringify(caFile)
  } });
const s = new NtsSession(ke, (n) => crypto.getRandomValues(new Uint8Array(n)));
const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const timer = setTimeout(() => sock.close(), 5000);
const now = () => instantToNtp64(BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n);
const t1 = now();
const req = s.buildRequest({ leap: 0, version: 4, mode: 3, stratum: 0, poll: 0, precision: 0,
  rootDelay: 0, rootDispersion: 0, refId: 0, refTime: 0n, originTime: 0n, receiveTime: 0n,
  transmitTime: t1, extensions: [], mac: null });
await sock.send(req, { transport: "udp", hostname: ke.ntpServer, port: ke.ntpPort });
const [b] = await sock.receive();
const t4 = now();
const r = s.acceptReply(b);
const p = r.ok ? r.reply.packet : null;
console.log(JSON.stringify({
  aead: ke.aeadId, cookies: ke.cookies.length, cookieLength: ke.cookies[0].length,
  ntpServer: ke.ntpServer, ntpPort: ke.ntpPort, ok: r.ok, error: r.ok ? null : r.error.message,
  newCookies: r.ok ? r.reply.cookies.length : 0, originMatches: p !== null && p.originTime === t1,
  offset: p === null ? null : (ntp64Difference(p.receiveTime, t1) + ntp64Difference(p.transmitTime, t4)) / 2,
}));
clearTimeout(timer);
sock.close();
`;
}

Deno.test({
  name: "NTS interop: NTS-KE and one NTS exchange with ntpsec's NTS server (in a netns)",
  ignore: ntpsecIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-ntpsec-nts-" });
    const ns = `tempus-nts-${Deno.pid}`;
    let ntpd: ReturnType<typeof startBackground> | null = null;
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      await Deno.writeTextFile(
        `${dir}/ntp.conf`,
        [
          "disable ntp",
          "nts enable",
          `nts cert ${dir}/server.crt`,
          `nts key ${dir}/server.key`,
          `nts cookie ${dir}/ntskeys`,
          "",
        ].join("\n"),
      );
      for (const args of [["netns", "add", ns], ["-n", ns, "link", "set", "lo", "up"]]) {
        const out = await runCommand("ip", args);
        assert.equal(out.code, 0, `ip ${args.join(" ")}: ${out.stderr}`);
      }
      ntpd = startBackground("ip", ["netns", "exec", ns, NTPSEC!, "-n", "-c", `${dir}/ntp.conf`]);
      await waitFor(
        () =>
          /Private Key OK/.test(ntpd!.output()) &&
          /Listen normally on \d+ lo 127/.test(ntpd!.output()),
        10_000,
        "ntpsec's NTS-KE server",
      );
      const out = await runCommand(
        "ip",
        [
          "netns",
          "exec",
          ns,
          Deno.execPath(),
          "eval",
          "--unstable-net",
          probeCode(`${dir}/ca.crt`),
        ],
        60_000,
        { cwd: REPO_ROOT },
      );
      const line = out.stdout.trim().split("\n").pop() ?? "";
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
      const r = JSON.parse(line);
      console.log(`ntpsec: ${line}`);
      assert.equal(r.aead, 15);
      assert.ok(r.cookies >= 1, line);
      assert.equal(r.ntpPort, 123);
      assert.equal(r.ok, true, r.error);
      assert.equal(r.originMatches, true);
      assert.ok(r.newCookies >= 1, line);
      assert.ok(Math.abs(r.offset) < 0.05, `offset ${r.offset}`);
    } finally {
      await ntpd?.stop();
      await runCommand("ip", ["netns", "del", ns]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Answers NTS requests on `socket` until it is closed; counts what it did. */
async function ntsResponder(
  socket: Deno.DatagramConn,
  masters: CookieKey[],
  stats: { ok: number; nak: number; other: number },
): Promise<void> {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  for (;;) {
    let bytes: Uint8Array;
    let from: Deno.Addr;
    try {
      [bytes, from] = await socket.receive();
    } catch {
      return;
    }
    const t2 = nowNtp();
    const decoded = decodePacket(bytes);
    if (!decoded.ok || decoded.packet.mode !== 3) {
      stats.other++;
      continue;
    }
    const request = decoded.packet;
    const header: NtpPacket = {
      leap: 0,
      version: request.version,
      mode: 4,
      stratum: 1,
      poll: request.poll,
      precision: -20,
      rootDelay: 0,
      rootDispersion: 0.001,
      refId: 0x54454d50, // "TEMP"
      refTime: t2,
      originTime: request.transmitTime,
      receiveTime: t2,
      transmitTime: 0n,
      extensions: [],
      mac: null,
    };
    const check = checkNtsRequest(bytes, masters);
    let reply: Uint8Array;
    if (check.ok) {
      const cookies = Array.from(
        { length: check.cookiesWanted },
        () => makeCookie(masters[0], random(16), check.keys),
      );
      reply = buildNtsReply(
        { ...header, transmitTime: nowNtp() },
        check.uniqueId,
        check.keys.s2cKey,
        random(16),
        cookies,
      );
      stats.ok++;
    } else if (check.nak && check.uniqueId !== null) {
      reply = buildNtsNak({ ...header, transmitTime: nowNtp() }, check.uniqueId);
      stats.nak++;
    } else {
      stats.other++;
      continue;
    }
    await socket.send(reply, from).catch(() => {});
  }
}

Deno.test({
  name: "NTS interop: chronyd -Q as NTS client of tempus's NTS-KE server and NTS responder",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-server-" });
    const masters: CookieKey[] = [{ id: 3, key: crypto.getRandomValues(new Uint8Array(32)) }];
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const kePort = (listener.addr as Deno.NetAddr).port;
    const ntpPort = (udp.addr as Deno.NetAddr).port;
    const stats = { ok: 0, nak: 0, other: 0 };
    const keResults: string[] = [];
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      const accepting = (async () => {
        for await (const conn of listener) {
          const r = await serveNtsKeConnection(conn, {
            certFile: `${dir}/server.crt`,
            keyFile: `${dir}/server.key`,
            cookieKey: masters[0],
            random: (n) => crypto.getRandomValues(new Uint8Array(n)),
            ntpPort,
          });
          keResults.push(r.ok ? `ok aead ${r.aeadId}, ${r.cookies} cookies` : r.message);
        }
      })().catch(() => {});
      const responding = ntsResponder(udp, masters, stats);
      const out = await runCommand("chronyd", [
        "-Q",
        "-u",
        "root",
        "-t",
        "20",
        `pidfile ${dir}/q.pid`,
        "cmdport 0",
        `ntstrustedcerts ${dir}/ca.crt`,
        `server 127.0.0.1 iburst nts ntsport ${kePort} maxsamples 1`,
      ], 25_000);
      const text = out.stdout + out.stderr;
      console.log(`NTS-KE connections: ${keResults.join("; ")}`);
      console.log(`NTS responder: ${JSON.stringify(stats)}`);
      const match = text.match(/System clock wrong by ([-+0-9.eE]+) seconds/);
      assert.ok(match, `chronyd -Q gave no offset:\n${text}`);
      console.log(`chronyd -Q over NTS: offset ${match[1]} s`);
      assert.ok(Math.abs(Number(match[1])) < 0.05, text);
      assert.ok(keResults.length >= 1 && keResults[0].startsWith("ok aead 15, 8 cookies"));
      assert.ok(stats.ok >= 1, JSON.stringify(stats));
      assert.equal(stats.nak, 0);
      listener.close();
      udp.close();
      await accepting;
      await responding;
    } finally {
      try {
        listener.close();
      } catch {
        // closed above
      }
      try {
        udp.close();
      } catch {
        // closed above
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
