import assert from "node:assert/strict";
import { makeCa, makeServerCertificate } from "../tests/helpers/nts_certs.ts";
import { opensslAvailable } from "./openssl.ts";
import { type MemoryTls, MemoryTlsClient, type TlsClientOptions, TlsError } from "./openssl_tls.ts";
import { MemoryTlsServer } from "./openssl_tls_server.ts";

// Certificate checks against a time floor (TlsClientOptions.timeFloor): a private CA valid from
// now for 2 days, a server certificate like it, and one valid only on 2020-01-01.

function haveOpensslCli(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const ignore = !opensslAvailable() || !haveOpensslCli();

function shuttle(a: MemoryTls, b: MemoryTls): void {
  for (let i = 0; i < 20; i++) {
    const ab = a.takeOutgoing();
    const ba = b.takeOutgoing();
    if (ab.length === 0 && ba.length === 0) return;
    if (ab.length > 0) b.receive(ab);
    if (ba.length > 0) a.receive(ba);
  }
}

/** Handshakes a client with `options` against the server certificate `cert` in `dir`. */
function connect(dir: string, cert: string, options: Partial<TlsClientOptions>): void {
  const server = new MemoryTlsServer({
    certFile: `${dir}/${cert}.crt`,
    keyFile: `${dir}/${cert}.key`,
    alpn: "ntske/1",
  });
  const client = new MemoryTlsClient({
    serverName: "localhost",
    alpn: ["ntske/1"],
    caFile: `${dir}/ca.crt`,
    ...options,
  });
  try {
    for (let i = 0; i < 10; i++) {
      const c = client.handshake();
      const s = server.handshake();
      shuttle(client, server);
      if (c === "done" && s === "done") return;
    }
    assert.fail("handshake did not finish");
  } finally {
    client.free();
    server.free();
  }
}

const unix = (iso: string) => Date.parse(iso) / 1000;
const expired = (e: unknown) => e instanceof TlsError && /expired/.test(e.message);

Deno.test({
  name: "TLS time floor: expiry is checked at the floor, notBefore is not",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-tls-floor-" });
    try {
      await makeCa(dir, "ca");
      await makeServerCertificate(dir, "ca", "fresh");
      await makeServerCertificate(dir, "ca", "old", true);
      const now = Date.now() / 1000;
      // The clock is right: the 2020 certificate is expired, the fresh one verifies.
      connect(dir, "fresh", {});
      assert.throws(() => connect(dir, "old", {}), expired);
      // A floor before every notBefore (the CA's included): not-yet-valid is forgiven.
      connect(dir, "fresh", { timeFloor: unix("2016-06-01T00:00:00Z") });
      connect(dir, "old", { timeFloor: unix("2020-01-01T12:00:00Z") });
      // Expired vs floor: a certificate that expired before the floor is refused...
      assert.throws(
        () => connect(dir, "old", { timeFloor: unix("2021-01-01T00:00:00Z") }),
        expired,
      );
      // ...and so is a fresh one when the floor is past its notAfter (the floor is really used).
      assert.throws(() => connect(dir, "fresh", { timeFloor: now + 10 * 86400 }), expired);
      // Only "not yet valid" is forgiven: a wrong name still fails.
      assert.throws(
        () =>
          connect(dir, "fresh", { timeFloor: unix("2016-06-01T00:00:00Z"), serverName: "x.test" }),
        (e: unknown) => e instanceof TlsError && /certificate/.test(e.message) && !expired(e),
      );
      // And the same engine without a floor, after the callback ones were freed, still works.
      connect(dir, "fresh", {});
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "TLS time floor: excludes noTimeCheck, refuses a non-finite floor",
  ignore,
  fn() {
    const base = { serverName: "localhost", alpn: ["ntske/1"] };
    assert.throws(
      () => new MemoryTlsClient({ ...base, noTimeCheck: true, timeFloor: 0 }),
      RangeError,
    );
    assert.throws(() => new MemoryTlsClient({ ...base, timeFloor: NaN }), RangeError);
  },
});
