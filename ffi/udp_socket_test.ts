import assert from "node:assert/strict";
import { libcAvailable } from "./libc.ts";
import { findRxTimestamp } from "./cmsg_timestamps.ts";
import { readSockaddr, writeSockaddr } from "./sockaddr.ts";
import { KernelTimestampSocket } from "./udp_socket.ts";
import { parseIpv4, parseIpv6 } from "../src/base/ip.ts";

function roundTrip(family: number, addr: Uint8Array, port: number) {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  const length = writeSockaddr(v, family, addr, port);
  return { bytes: b.subarray(0, length), back: readSockaddr(v, b) };
}

Deno.test("sockaddr encoding round-trips for IPv4 and IPv6", () => {
  const v4 = roundTrip(2, parseIpv4("192.0.2.5")!, 123);
  assert.deepEqual([...v4.bytes.subarray(0, 8)], [2, 0, 0, 123, 192, 0, 2, 5]);
  assert.equal(v4.bytes.length, 16);
  assert.deepEqual(v4.back, { hostname: "192.0.2.5", port: 123 });
  assert.deepEqual(roundTrip(10, parseIpv6("2001:db8::1")!, 4123).back, {
    hostname: "2001:db8::1",
    port: 4123,
  });
  assert.deepEqual(roundTrip(10, parseIpv6("::1")!, 1).back, { hostname: "::1", port: 1 });
  // An IPv4 address on a dual-stack socket goes out IPv4-mapped and reads back as IPv4.
  const mapped = roundTrip(10, parseIpv4("192.0.2.5")!, 123);
  assert.equal(mapped.bytes.length, 28);
  assert.deepEqual(mapped.back, { hostname: "192.0.2.5", port: 123 });
});

Deno.test("sockaddr_in round-trips with the port in network order", () => {
  const v4 = roundTrip(2, parseIpv4("127.0.0.5")!, 12345);
  assert.deepEqual([...v4.bytes.subarray(0, 8)], [2, 0, 0x30, 0x39, 127, 0, 0, 5]);
  assert.deepEqual(v4.back, { hostname: "127.0.0.5", port: 12345 });
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
  name: "a datagram over loopback carries a kernel receive timestamp",
  ignore: !libcAvailable(),
  async fn() {
    const sock = KernelTimestampSocket.open("127.0.0.1", 0);
    const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    // Closing the socket ends a wait that found nothing (as a 2 s receive timeout would).
    const timer = setTimeout(() => sock.close(), 2000);
    try {
      assert.ok(sock.local.port > 0);
      const before = BigInt(Date.now()) * 1_000_000n;
      await sender.send(new Uint8Array([1, 2, 3]), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: sock.local.port,
      });
      assert.ok(await sock.waitReadable());
      const got = sock.receive();
      assert.ok(got);
      assert.deepEqual([...got.data], [1, 2, 3]);
      assert.ok(got.kernelRxRaw !== null);
      const ageMs = Number(BigInt(Date.now()) * 1_000_000n - got.kernelRxRaw) / 1e6;
      assert.ok(got.kernelRxRaw >= before - 2_000_000n && ageMs < 1000, `age ${ageMs}`);
      assert.ok(sock.replyToLast(new Uint8Array([9])));
      const [reply] = await sender.receive();
      assert.deepEqual([...reply], [9]);
    } finally {
      clearTimeout(timer);
      sock.close();
      sender.close();
    }
  },
});

Deno.test({
  name: "kernel transmit timestamps: read back after send, before the receiver's RX timestamp",
  ignore: !libcAvailable(),
  fn() {
    const rx = KernelTimestampSocket.open("127.0.0.1", 0);
    const tx = KernelTimestampSocket.open("127.0.0.1", 0);
    try {
      assert.equal(tx.enableTxTimestamps(), true);
      const before = tx.realtimeNow();
      assert.equal(tx.send(new Uint8Array([1, 2, 3]), "127.0.0.1", rx.local.port), true);
      const txTs = tx.readTxTimestamp();
      assert.ok(txTs !== null, "a transmit timestamp");
      assert.ok(txTs >= before && txTs <= tx.realtimeNow(), `${before} ${txTs}`);
      let got = rx.receive();
      for (let i = 0; got === null && i < 1000; i++) got = rx.receive();
      assert.ok(got !== null && got.kernelRxRaw !== null);
      assert.ok(got.kernelRxRaw >= txTs, "sent before received");
      assert.equal(tx.readTxTimestamp(), null, "the error queue was drained");
    } finally {
      rx.close();
      tx.close();
    }
  },
});
