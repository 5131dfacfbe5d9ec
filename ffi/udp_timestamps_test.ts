import assert from "node:assert/strict";
import { libcAvailable } from "./libc.ts";
import {
  decodeSockaddrIn,
  encodeSockaddrIn,
  findTimestampNs,
  TimestampingUdpSocket,
} from "./udp_timestamps.ts";

Deno.test("sockaddr_in round-trips with the port in network order", () => {
  const b = encodeSockaddrIn("127.0.0.5", 12345);
  assert.deepEqual([...b.subarray(0, 8)], [2, 0, 0x30, 0x39, 127, 0, 0, 5]);
  assert.deepEqual(decodeSockaddrIn(b), { address: "127.0.0.5", port: 12345 });
  assert.throws(() => encodeSockaddrIn("::1", 1), TypeError);
});

Deno.test("findTimestampNs walks control messages", () => {
  const c = new Uint8Array(64);
  const v = new DataView(c.buffer);
  v.setBigUint64(0, 20n, true); // an unrelated 20-byte cmsg, padded to 24
  v.setInt32(8, 0, true);
  v.setInt32(12, 8, true);
  v.setBigUint64(24, 32n, true);
  v.setInt32(32, 1, true);
  v.setInt32(36, 35, true);
  v.setBigInt64(40, 1_700_000_000n, true);
  v.setBigInt64(48, 123_456_789n, true);
  assert.equal(findTimestampNs(c, 56), 1_700_000_000_123_456_789n);
  assert.equal(findTimestampNs(c, 24), null);
});

Deno.test({
  name: "a datagram over loopback carries a kernel receive timestamp",
  ignore: !libcAvailable(),
  async fn() {
    const sock = new TimestampingUdpSocket("127.0.0.1", 0);
    const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      assert.ok(sock.port > 0);
      const before = BigInt(Date.now()) * 1_000_000n;
      await sender.send(new Uint8Array([1, 2, 3]), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: sock.port,
      });
      const got = await sock.receive(2000);
      assert.ok(got);
      assert.deepEqual([...got.data], [1, 2, 3]);
      assert.ok(got.kernelRxNs !== null);
      const ageMs = Number(BigInt(Date.now()) * 1_000_000n - got.kernelRxNs) / 1e6;
      assert.ok(got.kernelRxNs >= before - 2_000_000n && ageMs < 1000, `age ${ageMs}`);
      sock.sendTo(new Uint8Array([9]), got.from);
      const [reply] = await sender.receive();
      assert.deepEqual([...reply], [9]);
    } finally {
      sock.close();
      sender.close();
    }
  },
});
