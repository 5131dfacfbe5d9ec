/**
 * The daemon's NTS-KE server (src/daemon/nts_server.ts) in process, with certificates from a
 * private CA made by the openssl CLI: `ntsntpserver` and the NTP port are announced,
 * `ntsratelimit` closes a client's connections beyond its burst, `ntsrotate` rotates the
 * cookie key on its timer (the previous key still opens cookies), and a certificate that does
 * not match its key stops the start.
 */
import assert from "node:assert/strict";
import { haveBinary } from "../helpers/peers.ts";
import { freeTcpPort, makeCa, makeServerCertificate } from "../helpers/nts_certs.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { parseChronyConfText } from "../../src/config/chrony_conf.ts";
import { startNtsServer } from "../../src/daemon/nts_server.ts";
import { ntsKeExchange } from "../../src/nts/ke_client.ts";
import { NtsSession } from "../../src/nts/session.ts";
import { emptyPacket, NtpMode } from "../../src/ntp/packet.ts";

const ignore = !haveBinary("openssl") || !opensslAvailable();

function config(lines: string[]) {
  const r = parseChronyConfText(lines.join("\n") + "\n", "t.conf");
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

Deno.test({
  name: "NTS-KE server: ntsntpserver and port announced, ntsratelimit, ntsrotate, bad key refused",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-ke-" });
    const timers: { delay: number; fn: () => void }[] = [];
    const lines: string[] = [];
    const deps = {
      log: { log: (_l: string, m: string) => lines.push(m) },
      timers: {
        setTimer: (delay: number, fn: () => void) => timers.push({ delay, fn }),
        cancelTimer: () => {},
      },
      ntpPort: 1123,
    };
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca");
      await makeServerCertificate(dir, "ca", "other");
      const port = freeTcpPort();
      const server = startNtsServer(
        config([
          "bindaddress 127.0.0.1",
          `ntsserverkey ${dir}/server.key`,
          `ntsservercert ${dir}/server.crt`,
          `ntsport ${port}`,
          "ntsntpserver time.example",
          "ntsrotate 3600",
          "ntsratelimit interval 10 burst 2 leak 0",
        ]),
        deps,
      )!;
      try {
        const ke = { host: "127.0.0.1", port, serverName: "localhost", caFile: `${dir}/ca.crt` };
        const first = await ntsKeExchange(ke);
        assert.equal(first.ntpServer, "time.example");
        assert.equal(first.ntpPort, 1123);
        assert.equal(first.cookies.length, 8);
        await ntsKeExchange(ke); // the burst is 2
        await assert.rejects(ntsKeExchange(ke)); // the third is closed at once
        assert.deepEqual(server.ke.stats(), { served: 2, failed: 0, limited: 1 });

        // ntsrotate: one timer, about an hour; after it fires, old cookies still verify.
        assert.equal(timers.length, 1);
        assert.ok(timers[0].delay > 3500 && timers[0].delay <= 3600, `${timers[0].delay}`);
        timers[0].fn();
        assert.ok(lines.includes("NTS server key rotated"));
        const session = new NtsSession(first, (n) => crypto.getRandomValues(new Uint8Array(n)));
        const request = session.buildRequest({ ...emptyPacket(NtpMode.Client), transmitTime: 5n })!;
        const verdict = server.authenticator.check(request);
        assert.equal(verdict.kind, "reply");
        if (verdict.kind === "reply") {
          const header = new Uint8Array(48);
          header[0] = 0x24; // v4, server
          header.set(request.subarray(40, 48), 24);
          const reply = verdict.finish(header, () => 1_000_000_000n);
          assert.ok(reply !== null && session.acceptReply(reply).ok);
        }
      } finally {
        server.ke.close();
      }

      // A certificate that does not match the key stops the start.
      assert.throws(
        () =>
          startNtsServer(
            config([
              `ntsserverkey ${dir}/server.key`,
              `ntsservercert ${dir}/other.crt`,
              `ntsport ${freeTcpPort()}`,
            ]),
            deps,
          ),
        /private key does not match|key/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
