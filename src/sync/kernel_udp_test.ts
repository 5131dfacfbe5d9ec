import assert from "node:assert/strict";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { UdpServerSocket } from "../../tests/helpers/udp_server_socket.ts";
import { kernelExchange } from "./kernel_udp.ts";
import { kernelSocketsAvailable } from "../io/kernel_socket.ts";

const clock = systemTimeSource().realtime;

Deno.test({
  name: "kernel exchange: reply with a kernel receive time no later than the JS clock read",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const server = UdpServerSocket.bind("127.0.0.1", 0);
    const loop = (async () => {
      for await (const d of server.datagrams(clock)) await server.send(d.data, d.from);
    })();
    try {
      const before = clock();
      const r = await kernelExchange(server.localAddress, Uint8Array.of(7, 7), {
        clock,
        timeoutMs: 2000,
      });
      const after = clock();
      assert.ok(r.accepted);
      assert.equal(r.sendError, null);
      assert.notEqual(r.localPort, 0);
      assert.deepEqual([...r.replies[0].data], [7, 7]);
      assert.deepEqual(r.replies[0].from, server.localAddress);
      assert.ok(r.sentAt >= before && r.replies[0].receivedAt >= r.sentAt);
      assert.ok(r.replies[0].receivedAt <= after);
      const silent = UdpServerSocket.bind("127.0.0.1", 0);
      try {
        const t0 = performance.now();
        const none = await kernelExchange(silent.localAddress, Uint8Array.of(1), {
          clock,
          timeoutMs: 150,
        });
        const took = performance.now() - t0;
        assert.equal(none.accepted, false);
        assert.ok(took >= 140 && took < 1500, `took ${took}`);
      } finally {
        silent.close();
      }
    } finally {
      server.close();
      await loop;
    }
  },
});
