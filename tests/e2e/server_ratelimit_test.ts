/**
 * e2e: rate limiting and access control observed on the wire. With
 * `ratelimit interval 4 burst 2 leak 4 kod 1`, a client sending 40 requests in a burst gets
 * its 2 burst answers, a few leaked answers, and KoD RATE packets (leap 3, stratum 0, refid
 * "RATE", origin = its request) for about half of the dropped rest. A denied address gets
 * nothing.
 */
import assert from "node:assert/strict";
import { KOD_RATE_REFID } from "../../src/core/server.ts";
import { clientRequest, ReplyCollector, startFixture } from "./fixtures/fixture_process.ts";

Deno.test("server e2e: ratelimit answers a burst, then KoD RATE or nothing", async () => {
  const server = await startFixture([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--allow",
    "127.0.4.0/24",
    "--ratelimit",
    "4,2,4,1",
    "--warmup",
    "0",
  ]);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.4.1", port: 0 });
  const denied = Deno.listenDatagram({ transport: "udp", hostname: "127.0.5.1", port: 0 });
  const col = new ReplyCollector(sock);
  const deniedCol = new ReplyCollector(denied);
  try {
    const to = { transport: "udp" as const, hostname: server.host, port: server.port };
    const tags = new Set<bigint>();
    for (let i = 0; i < 40; i++) {
      const tag = 0x5000n + BigInt(i);
      tags.add(tag);
      await sock.send(clientRequest(tag), to);
      await denied.send(clientRequest(tag), to);
    }
    await col.waitFor(40, 1500);
    const normal = col.replies.filter((r) => r.packet?.stratum === 1);
    const kods = col.replies.filter((r) => r.packet?.refId === KOD_RATE_REFID);
    assert.equal(normal.length + kods.length, col.replies.length, "only replies and KoDs");
    assert.ok(normal.length >= 2, `burst answered: ${normal.length}`);
    assert.ok(normal.length <= 12, `too many answers for the limit: ${normal.length}`);
    assert.ok(kods.length >= 5, `KoD RATE seen: ${kods.length}`);
    assert.ok(col.replies.length < 40, "some requests got no answer at all");
    // The burst comes first: the first two requests were answered normally.
    assert.equal(normal[0].packet!.originTime, 0x5000n);
    assert.equal(normal[1].packet!.originTime, 0x5001n);
    for (const k of kods) {
      const p = k.packet!;
      assert.equal(p.leap, 3);
      assert.equal(p.stratum, 0);
      assert.equal(p.mode, 4);
      assert.ok(tags.has(p.originTime), "KoD origin matches a request");
      assert.equal(k.data.length, 48);
    }
    assert.equal(deniedCol.replies.length, 0, "denied address answered");
  } finally {
    sock.close();
    denied.close();
    await col.done;
    await deniedCol.done;
    await server.stop();
  }
});
