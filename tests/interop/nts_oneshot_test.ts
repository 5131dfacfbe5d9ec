/**
 * `tempus query --nts` and `tempus sync --nts --dry-run` against chronyd's NTS server
 * (chronyd -x, certificate from a private CA the test makes), run through ./tempus so the
 * permission sandbox is what production gets; TEMPUS_NO_CLOCK guards the clock.
 */
import assert from "node:assert/strict";
import { haveBinary, REPO_ROOT, runCommand, startChronydServer } from "../helpers/peers.ts";
import { freeTcpPort, makeCa, makeServerCertificate } from "../helpers/nts_certs.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";

const ignore = !haveBinary("chronyd") || !haveBinary("openssl") || !opensslAvailable();

function tempus(args: string[]) {
  return runCommand(`${REPO_ROOT}tempus`, args, 60_000, {
    cwd: REPO_ROOT,
    env: { TEMPUS_NO_CLOCK: "1", NO_COLOR: "1" },
  });
}

Deno.test({
  name:
    "NTS one-shot: tempus query --nts and sync --nts --dry-run against chronyd; a wrong CA is refused",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-oneshot-" });
    try {
      await makeCa(dir, "ca");
      await makeCa(dir, "otherca");
      await makeServerCertificate(dir, "ca");
      const kePort = freeTcpPort();
      const chronyd = await startChronydServer({
        extra: [
          `ntsserverkey ${dir}/server.key`,
          `ntsservercert ${dir}/server.crt`,
          `ntsport ${kePort}`,
          `ntsdumpdir ${dir}`,
        ],
      });
      try {
        const nts = ["--nts", "--nts-port", `${kePort}`, "--nts-ca", `${dir}/ca.crt`];
        const q = await tempus(["query", "--json", "-c", "3", ...nts, "127.0.0.1"]);
        assert.equal(q.code, 0, q.stdout + q.stderr);
        const r = JSON.parse(q.stdout);
        assert.equal(r.nts, true);
        assert.equal(r.port, chronyd.port, "the NTP port NTS-KE named");
        assert.ok(r.received >= 1, q.stdout);
        assert.ok(Math.abs(r.offset) < 0.05, q.stdout);

        const s = await tempus(["sync", "--dry-run", "--json", ...nts, "127.0.0.1"]);
        assert.equal(s.code, 0, s.stdout + s.stderr);
        const sj = JSON.parse(s.stdout);
        assert.ok(Math.abs(sj.offset) < 0.05, s.stdout);

        const bad = await tempus([
          "query",
          "--nts",
          "--nts-port",
          `${kePort}`,
          "--nts-ca",
          `${dir}/otherca.crt`,
          "127.0.0.1",
        ]);
        assert.equal(bad.code, 1, bad.stdout + bad.stderr);
        assert.match(bad.stderr, /NTS-KE with 127\.0\.0\.1 failed: .*certificate/i);

        const usage = await tempus(["query", "--nts", `127.0.0.1:${chronyd.port}`]);
        assert.equal(usage.code, 2, usage.stderr);
        assert.match(usage.stderr, /without :PORT/);
      } finally {
        await chronyd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
