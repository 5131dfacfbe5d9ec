import assert from "node:assert/strict";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { UdpServerSocket } from "../io/udp.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  findRxTimestamp,
  kernelExchange,
  kernelExchangeAvailable,
} from "./kernel_udp.ts";

const clock = systemTimeSource().realtime;

Deno.test("sockaddr encoding round-trips for IPv4 and IPv6", () => {
  const v4 = encodeSockaddr({ address: "192.0.2.5", port: 123 });
  assert.ok(v4 !== null);
  assert.deepEqual([...v4.bytes.subarray(0, 8)], [2, 0, 0, 123, 192, 0, 2, 5]);
  assert.deepEqual(decodeSockaddr(v4.bytes, 16), { address: "192.0.2.5", port: 123 });
  const v6 = encodeSockaddr({ address: "2001:db8::1", port: 4123 });
  assert.ok(v6 !== null);
  assert.deepEqual(decodeSockaddr(v6.bytes, 28), { address: "2001:db8::1", port: 4123 });
  assert.deepEqual(decodeSockaddr(encodeSockaddr({ address: "::1", port: 1 })!.bytes, 28), {
    address: "::1",
    port: 1,
  });
  assert.equal(encodeSockaddr({ address: "host.example", port: 1 }), null);
});

Deno.test("SCM_TIMESTAMPNS is found among control messages", () => {
  const control = new Uint8Array(64);
  const v = new DataView(control.buffer);
  v.setBigUint64(0, 20n, true); // an unrelated 20-byte cmsg, padded to 24
  v.setInt32(8, 0, true);
  v.setInt32(12, 8, true);
  v.setBigUint64(24, 32n, true);
  v.setInt32(32, 1, true);
  v.setInt32(36, 35, true);
  v.setBigInt64(40, 1_800_000_000n, true);
  v.setBigInt64(48, 123_456_789n, true);
  assert.equal(findRxTimestamp(control, 56), 1_800_000_000_123_456_789n);
  assert.equal(findRxTimestamp(control, 24), null);
  v.setBigUint64(0, 4n, true); // malformed length
  assert.equal(findRxTimestamp(control, 56), null);
});

Deno.test({
  name: "kernel exchange: reply with a kernel receive time no later than the JS clock read",
  ignore: !kernelExchangeAvailable(),
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
