import assert from "node:assert/strict";
import { NtsKeError, ntsKeExchange } from "./ke_client.ts";
import { encodeKeRecords, encodeKeRequest, type KeRecord, u16ListBody } from "./ke_records.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { TlsError } from "../../ffi/openssl_tls.ts";

// A fake NTS-KE server on Deno's own TLS (rustls), with a certificate from a private CA made
// by the openssl CLI, to drive the client through the paths chronyd never takes.

function haveOpensslCli(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const ignore = !opensslAvailable() || !haveOpensslCli();

interface Pki {
  dir: string;
  caFile: string;
  cert: string;
  key: string;
}

async function makePki(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-ke-" });
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  await run("req", ...ec, "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=localhost");
  await Deno.writeTextFile(
    `${dir}/ext`,
    "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "s.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "s.crt",
    "-days",
    "2",
    "-extfile",
    "ext",
  );
  return {
    dir,
    caFile: `${dir}/ca.crt`,
    cert: await Deno.readTextFile(`${dir}/s.crt`),
    key: await Deno.readTextFile(`${dir}/s.key`),
  };
}

let pki: Pki | null = null;
async function getPki(): Promise<Pki> {
  if (pki === null) pki = await makePki();
  return pki;
}

const END: KeRecord = { critical: true, type: 0, body: new Uint8Array() };
const GOOD: KeRecord[] = [
  { critical: true, type: 1, body: u16ListBody([0]) },
  { critical: false, type: 4, body: u16ListBody([15]) },
  { critical: false, type: 5, body: new Uint8Array(64).fill(0xc0) },
  { critical: false, type: 5, body: new Uint8Array(64).fill(0xc1) },
  { critical: false, type: 6, body: new TextEncoder().encode("127.0.0.2") },
  { critical: false, type: 7, body: u16ListBody([1234]) },
  END,
];

/**
 * Serves one connection: reads the client's request (checked after the client is done), then
 * `respond` writes (or not) and the connection is closed.
 */
async function withServer(
  options: { alpn?: string[]; expectRequest?: boolean },
  respond: (conn: Deno.TlsConn) => Promise<void>,
  client: (port: number, caFile: string) => Promise<void>,
): Promise<void> {
  const { cert, key, caFile } = await getPki();
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    alpnProtocols: options.alpn,
  });
  let received = new Uint8Array(0);
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await conn.handshake();
      const request = new Uint8Array(16);
      let got = 0;
      while (got < request.length) {
        const n = await conn.read(request.subarray(got));
        if (n === null) break;
        got += n;
      }
      received = request.slice(0, got);
      await respond(conn);
    } catch {
      // the client gave up: nothing to serve
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  })();
  try {
    await client((listener.addr as Deno.NetAddr).port, caFile);
  } finally {
    listener.close();
    await served;
  }
  // Every client run sent exactly the request of RFC 8915 (NTPv4, AES-SIV-CMAC-256, End).
  if (options.expectRequest ?? true) assert.deepEqual(received, encodeKeRequest([15]));
  else assert.equal(received.length, 0, "a request was sent to a server without ntske/1");
}

const ALPN = ["ntske/1"];

Deno.test({
  name: "NTS-KE client: a good response (sent octet by octet) gives cookies, server, port, keys",
  ignore,
  async fn() {
    await withServer({ alpn: ALPN }, async (conn) => {
      for (const b of encodeKeRecords(GOOD)) await conn.write(new Uint8Array([b]));
    }, async (port, caFile) => {
      const r = await ntsKeExchange({ host: "127.0.0.1", port, serverName: "localhost", caFile });
      assert.equal(r.aeadId, 15);
      assert.equal(r.cookies.length, 2);
      assert.equal(r.cookies[1][0], 0xc1);
      assert.equal(r.ntpServer, "127.0.0.2");
      assert.equal(r.ntpPort, 1234);
      assert.equal(r.c2sKey.length, 32);
      assert.notDeepEqual(r.c2sKey, r.s2cKey);
    });
  },
});

Deno.test({
  name: "NTS-KE client: an Error record, an early close and a silent server are NtsKeErrors",
  ignore,
  async fn() {
    await withServer({ alpn: ALPN }, async (conn) => {
      await conn.write(encodeKeRecords([{ critical: true, type: 2, body: u16ListBody([1]) }, END]));
    }, async (port, caFile) => {
      await assert.rejects(
        ntsKeExchange({ host: "127.0.0.1", port, serverName: "localhost", caFile }),
        (e: unknown) => e instanceof NtsKeError && /error 1/.test(e.message),
      );
    });
    await withServer({ alpn: ALPN }, async (conn) => {
      await conn.write(encodeKeRecords(GOOD).subarray(0, 20));
    }, async (port, caFile) => {
      await assert.rejects(
        ntsKeExchange({ host: "127.0.0.1", port, serverName: "localhost", caFile }),
        (e: unknown) => e instanceof NtsKeError || e instanceof TlsError,
      );
    });
    await withServer({ alpn: ALPN }, async () => {
      await new Promise((r) => setTimeout(r, 1500));
    }, async (port, caFile) => {
      const started = performance.now();
      await assert.rejects(
        ntsKeExchange({ host: "127.0.0.1", port, serverName: "localhost", caFile, timeoutMs: 400 }),
        (e: unknown) => e instanceof NtsKeError && /timed out/.test(e.message),
      );
      assert.ok(performance.now() - started < 1400, "the deadline did not bound the exchange");
    });
  },
});

Deno.test({
  name: "NTS-KE client: by address, a certificate without that IP address is refused",
  ignore,
  async fn() {
    await withServer({ alpn: ALPN, expectRequest: false }, async (conn) => {
      await conn.write(encodeKeRecords(GOOD));
    }, async (port, caFile) => {
      await assert.rejects(
        ntsKeExchange({ host: "127.0.0.1", port, caFile }),
        (e: unknown) => e instanceof TlsError && /certificate verification/.test(e.message),
      );
    });
  },
});

Deno.test({
  name: "NTS-KE client: a server without ALPN ntske/1 is refused",
  ignore,
  async fn() {
    await withServer({ expectRequest: false }, async (conn) => {
      await conn.write(encodeKeRecords(GOOD));
    }, async (port, caFile) => {
      await assert.rejects(
        ntsKeExchange({ host: "127.0.0.1", port, serverName: "localhost", caFile }),
        (e: unknown) => e instanceof NtsKeError && /ALPN/.test(e.message),
      );
    });
  },
});

Deno.test({
  name: "NTS-KE client: (cleanup of the test PKI)",
  ignore,
  async fn() {
    if (pki !== null) await Deno.remove(pki.dir, { recursive: true });
    pki = null;
  },
});
