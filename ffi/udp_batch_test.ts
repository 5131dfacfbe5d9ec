import assert from "node:assert/strict";
import { DatagramBatch } from "./udp_batch.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "./udp_socket.ts";
import { clockGettime } from "./libc.ts";

Deno.test({
  name: "udp batch: one recvmmsg reads several datagrams with senders and kernel timestamps",
  ignore: !kernelTimestampSocketsAvailable(),
  async fn() {
    const server = KernelTimestampSocket.open("::", 0);
    const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const clientPort = (client.addr as Deno.NetAddr).port;
    const batch = new DatagramBatch(4, 16);
    try {
      const before = clockGettime(0);
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.local.port };
      for (let i = 0; i < 5; i++) await client.send(new Uint8Array(i === 4 ? 40 : 3).fill(i), to);
      assert.ok(await server.waitReadable());
      assert.equal(server.receiveBatch(batch), 4, "capacity bounds one call");
      assert.equal(batch.count, 4);
      for (let i = 0; i < 4; i++) {
        assert.deepEqual([...batch.data(i)], [i, i, i]);
        assert.equal(batch.senderAddress(i), "127.0.0.1", "IPv4-mapped shown as IPv4");
        assert.equal(batch.senderPort(i), clientPort);
        const rx = batch.kernelRx(i);
        assert.ok(rx !== null && rx >= before && rx <= clockGettime(0));
        assert.equal(batch.truncated(i), false);
      }
      assert.ok(server.replyInBatch(batch, 2, Uint8Array.of(9, 9)));
      const [reply] = await client.receive();
      assert.deepEqual([...reply], [9, 9]);
      assert.equal(server.receiveBatch(batch), 1);
      assert.equal(batch.data(0).length, 16, "cut to the slot");
      assert.equal(batch.truncated(0), true);
      assert.equal(server.receiveBatch(batch), 0, "drained");
    } finally {
      server.close();
      client.close();
    }
    assert.equal(server.receiveBatch(batch), 0, "closed");
    assert.throws(() => new DatagramBatch(0), RangeError);
  },
});
