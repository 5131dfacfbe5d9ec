/**
 * Issue 20, item 6: against a dead daemon the client gives up as fast as chronyc (a connected
 * UDP socket hears the ICMP port unreachable), so `waitsync 3` takes its two intervals
 * (chronyc: 20 s) rather than 41 s.
 */
import assert from "node:assert/strict";
import { CmdmonClient } from "./client.ts";
import { REQ } from "./constants.ts";
import { freeUdpPort, runTempus } from "../../tests/helpers/peers.ts";

Deno.test("a dead daemon on 127.0.0.1 and ::1: no reply within milliseconds, not 2 x 7 s", async () => {
  const port = freeUdpPort();
  const client = new CmdmonClient({
    addresses: [
      { kind: "udp", hostname: "127.0.0.1", port },
      { kind: "udp", hostname: "::1", port },
    ],
  });
  try {
    const started = performance.now();
    assert.equal(await client.request(REQ.TRACKING), null);
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  } finally {
    await client.close();
  }
});

Deno.test("waitsync 3 against a dead daemon takes its two intervals, as chronyc", async () => {
  const port = freeUdpPort();
  const started = performance.now();
  const r = await runTempus(["waitsync", "3", "0", "0", "0.5", "-h", "127.0.0.1", "-p", `${port}`]);
  const s = (performance.now() - started) / 1000;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /506 Cannot talk to daemon/);
  // 2 x 0.5 s of intervals plus start-up; before: 3 x 7 s of retries on top.
  assert.ok(s < 6, `${s.toFixed(1)} s`);
});
