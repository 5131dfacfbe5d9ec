import assert from "node:assert/strict";
import { DatagramBatch } from "./udp_batch.ts";
import { ReplyBatch } from "./udp_send_batch.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "./udp_socket.ts";

Deno.test({
  name: "udp send batch: one sendmmsg answers each sender of a receive batch, in order",
  ignore: !kernelTimestampSocketsAvailable(),
  async fn() {
    const server = KernelTimestampSocket.open("::", 0);
    const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const b = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const batch = new DatagramBatch(4, 64);
    const replies = new ReplyBatch(3, 8);
    try {
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.local.port };
      await a.send(Uint8Array.of(1), to);
      await b.send(Uint8Array.of(2), to);
      await a.send(Uint8Array.of(3), to);
      assert.ok(await server.waitReadable());
      let n = 0;
      for (let tries = 0; n < 3 && tries < 100; tries++) {
        n += server.receiveBatch(batch);
        if (n < 3) await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(n, 3, "one batch of three (loopback delivers at once)");
      for (let i = 0; i < 3; i++) {
        assert.ok(replies.stage(Uint8Array.of(10 + batch.data(i)[0], i), batch, i));
      }
      assert.equal(replies.full, true);
      assert.equal(replies.stage(Uint8Array.of(0), batch, 0), false, "full");
      assert.deepEqual([...replies.staged(1)], [12, 1]);
      replies.slotsView.setUint8(1 * replies.slotLength + 1, 7); // rewritten in place
      assert.equal(replies.stage(new Uint8Array(9), batch, 0), false, "longer than a slot");
      const out = server.sendReplies(replies);
      assert.deepEqual({ ...out }, { sent: 3, failed: 0 });
      assert.equal(replies.count, 0, "emptied");
      const [r1] = await a.receive();
      const [r3] = await a.receive();
      const [r2] = await b.receive();
      assert.deepEqual([...r1], [11, 0]);
      assert.deepEqual([...r3], [13, 2]);
      assert.deepEqual([...r2], [12, 7], "each to its own sender, edits kept");
      assert.deepEqual({ ...replies.sendTo(-1) }, { sent: 0, failed: 0 }, "nothing staged");
      replies.stage(Uint8Array.of(1), batch, 0);
      assert.deepEqual({ ...replies.sendTo(-1) }, { sent: 0, failed: 1 }, "bad fd: counted");
    } finally {
      server.close();
      a.close();
      b.close();
    }
    replies.stage(Uint8Array.of(1), batch, 0);
    assert.deepEqual({ ...server.sendReplies(replies) }, { sent: 0, failed: 1 }, "closed");
    assert.throws(() => new ReplyBatch(0), RangeError);
  },
});
