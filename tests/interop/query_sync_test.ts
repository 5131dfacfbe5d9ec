/**
 * tempus query and tempus sync --dry-run against a real chronyd on loopback, cross-checked
 * with `chronyd -Q` against the same server; plus the failure modes of query (closed port,
 * garbage, Kiss-o'-Death). Nothing here touches the clock: chronyd runs with -x, the
 * measurement with -Q, sync with --dry-run (and TEMPUS_NO_CLOCK=1 as a second guard).
 */
import assert from "node:assert/strict";
import {
  chronydQuery,
  freeUdpPort,
  haveBinary,
  runTempus,
  startChronydServer,
} from "../helpers/peers.ts";
import { startTestServer } from "../helpers/test_server.ts";

const noChronyd = !haveBinary("chronyd");

function assertOneCleanLine(stderr: string): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got: ${stderr}`);
  assert.ok(
    !/\bat (file|ext):|Error:|Uncaught/.test(stderr),
    `stack trace or raw error: ${stderr}`,
  );
}

Deno.test({
  name: "query and sync --dry-run agree with chronyd -Q within 1 ms",
  ignore: noChronyd,
  async fn() {
    const server = await startChronydServer();
    try {
      // Sequential runs (parallel ones would compete for the CPUs and add scheduling noise);
      // on a loaded machine one retry of the three measurements is allowed.
      let failure = "";
      for (let attempt = 0; attempt < 3; attempt++) {
        const query = await runTempus(["query", "--json", "-c", "4", server.target]);
        const sync = await runTempus(["sync", "--dry-run", "--json", server.target]);
        const reference = await chronydQuery(server.address, server.port, "maxsamples 1");
        assert.equal(query.code, 0, query.stderr);
        assert.equal(sync.code, 0, sync.stderr);
        const q = JSON.parse(query.stdout);
        const s = JSON.parse(sync.stdout);
        assert.equal(q.ok, true);
        assert.equal(q.stratum, 1);
        assert.equal(q.received, 4);
        assert.equal(s.action, "none");
        assert.equal(s.applied, false);
        assert.equal(s.servers[0].received, 4);
        const dq = Math.abs(q.offset - reference.offset);
        const ds = Math.abs(s.offset - reference.offset);
        if (dq < 1e-3 && ds < 1e-3) {
          failure = "";
          break;
        }
        failure = `query ${q.offset}, sync ${s.offset} vs chronyd -Q ${reference.offset}`;
      }
      assert.equal(failure, "", `offsets differ by 1 ms or more: ${failure}`);
      // The text form carries the same fields.
      const text = await runTempus(["query", server.target]);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /offset [+-]0\.\d{9} s, delay/);
      assert.match(text.stdout, /stratum 1, refid .*leap 0/);
      assert.match(text.stdout, /root delay .* root dispersion/);
      assert.match(text.stdout, /precision 2\^-?\d+ .*poll 2\^/);
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "query against a closed port: one clear line, non-zero exit, within the timeout",
  async fn() {
    const port = freeUdpPort("127.0.0.1");
    const r = await runTempus(["query", "--timeout", "0.5", `127.0.0.1:${port}`]);
    assert.notEqual(r.code, 0);
    assertOneCleanLine(r.stderr);
    assert.match(r.stderr, /no reply from 127\.0\.0\.1:\d+ within 0\.5 s/);
    assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
  },
});

Deno.test("query against a server replying garbage: one clear line, non-zero exit", async () => {
  const server = startTestServer({ kind: "garbage" });
  try {
    const r = await runTempus(["query", "--timeout", "0.5", `127.0.0.1:${server.address.port}`]);
    assert.notEqual(r.code, 0);
    assertOneCleanLine(r.stderr);
    assert.match(r.stderr, /invalid reply/);
  } finally {
    await server.close();
  }
});

Deno.test("query reports a Kiss-o'-Death RATE", async () => {
  const server = startTestServer({ kind: "kod", code: "RATE" });
  try {
    const r = await runTempus(["query", "-c", "3", `127.0.0.1:${server.address.port}`]);
    assert.notEqual(r.code, 0);
    assertOneCleanLine(r.stderr);
    assert.match(r.stderr, /Kiss-o'-Death RATE/);
    assert.equal(server.requests, 1, "RATE must stop further requests");
    const j = await runTempus(["query", "--json", `127.0.0.1:${server.address.port}`]);
    assert.equal(JSON.parse(j.stdout).kod.code, "RATE");
  } finally {
    await server.close();
  }
});

Deno.test("query accepts the [::1]:PORT form", async () => {
  let server;
  try {
    server = startTestServer({ kind: "ok", offsetSeconds: 0.25 }, "::1");
  } catch {
    return; // no IPv6 loopback here
  }
  try {
    const r = await runTempus(["query", "--json", `[::1]:${server.address.port}`]);
    assert.equal(r.code, 0, r.stderr);
    const q = JSON.parse(r.stdout);
    assert.equal(q.address, "::1");
    assert.ok(Math.abs(q.offset - 0.25) < 0.05, `${q.offset}`);
  } finally {
    await server.close();
  }
});
