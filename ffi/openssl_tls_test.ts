import assert from "node:assert/strict";
import { opensslAvailable } from "./openssl.ts";
import { alpnWire, type MemoryTls, MemoryTlsClient, TlsError } from "./openssl_tls.ts";
import { MemoryTlsServer, TlsServerContext } from "./openssl_tls_server.ts";

// Client and server engines wired back to back in memory: no socket at all.

function haveOpensslCli(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const ignore = !opensslAvailable() || !haveOpensslCli();

async function pki(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-tls-" });
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
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
    "/CN=ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  await run("req", ...ec, "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=nts.test");
  await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=DNS:nts.test,IP:192.0.2.1\n");
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
  return dir;
}

/** Moves bytes both ways until neither side has anything to send. */
function shuttle(a: MemoryTls, b: MemoryTls): void {
  for (let i = 0; i < 20; i++) {
    const ab = a.takeOutgoing();
    const ba = b.takeOutgoing();
    if (ab.length === 0 && ba.length === 0) return;
    if (ab.length > 0) b.receive(ab);
    if (ba.length > 0) a.receive(ba);
  }
}

/** Runs both handshakes to completion (throws what either side throws). */
function handshake(client: MemoryTls, server: MemoryTls): void {
  for (let i = 0; i < 10; i++) {
    const c = client.handshake();
    const s = server.handshake();
    shuttle(client, server);
    if (c === "done" && s === "done") return;
  }
  assert.fail("handshake did not finish");
}

Deno.test("TLS: ALPN wire format", () => {
  assert.deepEqual(Array.from(alpnWire(["ntske/1", "h2"])), [
    7,
    0x6e,
    0x74,
    0x73,
    0x6b,
    0x65,
    0x2f,
    0x31,
    2,
    0x68,
    0x32,
  ]);
});

Deno.test({
  name: "TLS: back-to-back handshake, ALPN, data both ways, equal exporter keys",
  ignore,
  async fn() {
    const dir = await pki();
    try {
      for (const serverName of ["nts.test", "192.0.2.1"]) {
        const server = new MemoryTlsServer({
          certFile: `${dir}/s.crt`,
          keyFile: `${dir}/s.key`,
          alpn: "ntske/1",
        });
        const client = new MemoryTlsClient({
          serverName,
          alpn: ["x/1", "ntske/1"],
          caFile: `${dir}/ca.crt`,
        });
        try {
          handshake(client, server);
          assert.equal(client.version(), 0x0304);
          assert.equal(client.alpnSelected(), "ntske/1");
          assert.equal(server.alpnSelected(), "ntske/1");
          client.write(new Uint8Array([1, 2, 3]));
          shuttle(client, server);
          assert.deepEqual(server.read(), new Uint8Array([1, 2, 3]));
          server.write(new Uint8Array([4, 5]));
          shuttle(client, server);
          assert.deepEqual(client.read(), new Uint8Array([4, 5]));
          assert.equal(client.read(), "want-read");
          const context = new Uint8Array([0, 0, 0, 15, 0]);
          const ck = client.exportKeyingMaterial("EXPORTER-network-time-security", context, 32);
          const sk = server.exportKeyingMaterial("EXPORTER-network-time-security", context, 32);
          assert.deepEqual(ck, sk);
          const other = client.exportKeyingMaterial(
            "EXPORTER-network-time-security",
            new Uint8Array([0, 0, 0, 15, 1]),
            32,
          );
          assert.notDeepEqual(ck, other);
          server.shutdown();
          shuttle(client, server);
          assert.equal(client.read(), "closed");
        } finally {
          client.free();
          server.free();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "TLS: wrong name, untrusted CA and missing ALPN fail the handshake",
  ignore,
  async fn() {
    const dir = await pki();
    try {
      const cases: { serverName: string; alpn: string[]; ca: string; match: RegExp }[] = [
        { serverName: "other.test", alpn: ["ntske/1"], ca: "ca.crt", match: /certificate/ },
        { serverName: "192.0.2.2", alpn: ["ntske/1"], ca: "ca.crt", match: /certificate/ },
        { serverName: "nts.test", alpn: ["ntske/1"], ca: "s.crt", match: /certificate/ },
        { serverName: "nts.test", alpn: ["h2"], ca: "ca.crt", match: /./ },
      ];
      for (const c of cases) {
        const server = new MemoryTlsServer({
          certFile: `${dir}/s.crt`,
          keyFile: `${dir}/s.key`,
          alpn: "ntske/1",
        });
        const client = new MemoryTlsClient({
          serverName: c.serverName,
          alpn: c.alpn,
          caFile: `${dir}/${c.ca}`,
        });
        try {
          assert.throws(
            () => handshake(client, server),
            (e: unknown) => e instanceof TlsError && c.match.test(e.message),
          );
        } finally {
          client.free();
          server.free();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "TLS: one server context serves many connections, also after its own reference is freed",
  ignore,
  async fn() {
    const dir = await pki();
    try {
      const context = new TlsServerContext({
        certFile: `${dir}/s.crt`,
        keyFile: `${dir}/s.key`,
        alpn: "ntske/1",
      });
      const servers: MemoryTlsServer[] = [];
      for (let i = 0; i < 3; i++) {
        const server = new MemoryTlsServer(context);
        servers.push(server);
        const client = new MemoryTlsClient({
          serverName: "nts.test",
          alpn: ["ntske/1"],
          caFile: `${dir}/ca.crt`,
        });
        try {
          if (i === 2) context.free(); // the open connection keeps the context alive
          handshake(client, server);
          assert.equal(server.alpnSelected(), "ntske/1");
        } finally {
          client.free();
        }
      }
      for (const s of servers) s.free();
      assert.throws(() => new MemoryTlsServer(context), /freed/);
      context.close();
      assert.throws(
        () =>
          new TlsServerContext({ certFile: `${dir}/s.crt`, keyFile: `${dir}/ca.key`, alpn: "x" }),
        /private key|key/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
