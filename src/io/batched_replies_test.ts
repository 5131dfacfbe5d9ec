import assert from "node:assert/strict";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { writeNtpTimestamp } from "../core/server.ts";
import { ntp64ToInstant } from "../ntp/timestamp.ts";
import { BatchedReplies } from "./batched_replies.ts";
import { CookedBatch, KernelSocket, kernelSocketsAvailable } from "./kernel_socket.ts";

const realtime = systemTimeSource().realtime;

function txOf(reply: Uint8Array, pivot: bigint): bigint {
  return ntp64ToInstant(new DataView(reply.buffer, reply.byteOffset).getBigUint64(40), pivot);
}

Deno.test({
  name: "batched replies: clock-stamped replies are restamped at the send, others kept as made",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const scale = { rawNow: realtime, cook: (raw: bigint) => raw };
    const server = KernelSocket.open("127.0.0.1", 0, { scale });
    const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const batch = new CookedBatch(8, 128);
    const replies = new BatchedReplies(server, 8);
    try {
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.local.port };
      for (let i = 0; i < 3; i++) await client.send(new Uint8Array(48).fill(i), to);
      assert.ok(await server.waitReadable());
      let n = 0;
      for (let tries = 0; n < 3 && tries < 100; tries++) {
        n += server.receiveBatch(batch);
        if (n < 3) await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(n, 3);
      const old = realtime() - 1_000_000_000n; // one second ago
      const made = (tag: number, length: number) => {
        const r = new Uint8Array(length);
        r[0] = tag;
        writeNtpTimestamp(new DataView(r.buffer), 40, old);
        return r;
      };
      // 0: the clock's time (restamped); 1: another time (interleaved: kept); 2: with a MAC.
      assert.equal(replies.reply(batch, 0, made(0, 48), true), 0);
      assert.equal(replies.reply(batch, 1, made(1, 48), false), 0);
      assert.equal(replies.reply(batch, 2, made(2, 68), true), 0);
      const before = realtime();
      assert.equal(replies.flush(batch), 0);
      const after = realtime();
      const got = new Map<number, Uint8Array>();
      for (let i = 0; i < 3; i++) {
        const [d] = await client.receive();
        got.set(d[0], d);
      }
      const t0 = txOf(got.get(0)!, before);
      assert.ok(t0 >= before - 1n && t0 <= after, `restamped ${t0 - before} ns after the read`);
      assert.equal(txOf(got.get(1)!, before), old, "not the clock's reading (interleaved): kept");
      assert.equal(got.get(2)!.length, 68);
      assert.equal(txOf(got.get(2)!, before), old, "a MAC covers it: kept");
      assert.equal(replies.flush(batch), 0, "nothing staged");
      // The first flush probed the idle send path (MSG_PROBE): that put nothing on the wire.
      const extra = client.receive().then(() => "a fourth datagram", () => "none");
      const quiet = new Promise((r) => setTimeout(() => r("none"), 50));
      assert.equal(await Promise.race([extra, quiet]), "none");
    } finally {
      server.close();
      client.close();
    }
    assert.throws(() => new BatchedReplies(server, 0), RangeError);
    assert.throws(() => new BatchedReplies(server, 65), RangeError);
  },
});
