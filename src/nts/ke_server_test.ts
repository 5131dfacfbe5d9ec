import assert from "node:assert/strict";
import { serveNtsKeConnection } from "./ke_server.ts";
import { ntsKeExchange } from "./ke_client.ts";
import { type CookieKey, openCookie } from "./cookies.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";

function haveOpensslCli(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const ignore = !opensslAvailable() || !haveOpensslCli();
const MASTER: CookieKey = { id: 1, key: new Uint8Array(32).fill(0x42) };

async function pki(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-kes-" });
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
  await run("req", ...ec, "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=localhost");
  await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
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

Deno.test({
  name: "NTS-KE server: tempus's client gets 8 cookies holding the keys it exported",
  ignore,
  async fn() {
    const dir = await pki();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const served = (async () => {
        const conn = await listener.accept();
        return await serveNtsKeConnection(conn, {
          certFile: `${dir}/s.crt`,
          keyFile: `${dir}/s.key`,
          cookieKey: MASTER,
          random: (n) => crypto.getRandomValues(new Uint8Array(n)),
          ntpPort: 4123,
        });
      })();
      const ke = await ntsKeExchange({
        host: "127.0.0.1",
        port: (listener.addr as Deno.NetAddr).port,
        caFile: `${dir}/ca.crt`,
      });
      const result = await served;
      assert.deepEqual(result, { ok: true, aeadId: 15, cookies: 8 });
      assert.equal(ke.cookies.length, 8);
      assert.equal(ke.ntpPort, 4123);
      for (const cookie of ke.cookies) {
        const contents = openCookie([MASTER], cookie);
        assert.ok(contents !== null);
        assert.deepEqual(contents.c2sKey, ke.c2sKey);
        assert.deepEqual(contents.s2cKey, ke.s2cKey);
      }
    } finally {
      listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NTS-KE server: a client that sends garbage gets an error, the server does not throw",
  ignore,
  async fn() {
    const dir = await pki();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const served = (async () => {
        const conn = await listener.accept();
        return await serveNtsKeConnection(conn, {
          certFile: `${dir}/s.crt`,
          keyFile: `${dir}/s.key`,
          cookieKey: MASTER,
          random: (n) => crypto.getRandomValues(new Uint8Array(n)),
          timeoutMs: 2000,
        });
      })();
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: (listener.addr as Deno.NetAddr).port,
      });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      const result = await served;
      assert.equal(result.ok, false);
      try {
        conn.close();
      } catch {
        // closed
      }
    } finally {
      listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
