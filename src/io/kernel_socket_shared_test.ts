import assert from "node:assert/strict";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { CookedBatch, KernelSocket, kernelSocketsAvailable } from "./kernel_socket.ts";
import { ipBytes, parseDottedQuad } from "../../ffi/sockaddr.ts";

const realtime = systemTimeSource().realtime;
const scale = { rawNow: realtime, cook: (raw: bigint) => raw };

Deno.test({
  name: "shared socket: Deno's receive gets kernel RX times, batched reads in between too",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const server = KernelSocket.openShared("127.0.0.1", 0, { scale });
    const client = KernelSocket.open("127.0.0.1", 0, { scale });
    const one = new CookedBatch(1, 1);
    const batch = new CookedBatch(8, 128);
    try {
      assert.ok(server.receivesThroughDeno);
      const port = server.local.port;
      assert.notEqual(port, 0);
      let previous = 0n;
      for (let round = 0; round < 3; round++) {
        // One datagram through Deno: its kernel time, between the send and the read.
        const t1 = realtime();
        assert.equal(client.send(Uint8Array.of(round, 1), "127.0.0.1", port), null);
        const d = await server.receiveOne(one);
        const after = realtime();
        assert.ok(d !== null);
        assert.deepEqual([...d.data], [round, 1]);
        assert.equal(d.address, "127.0.0.1");
        assert.equal(d.port, client.local.port);
        assert.equal(one.kernelRx[0], 1, "a kernel timestamp");
        const rx = one.rx[0];
        assert.ok(rx >= t1 && rx <= after, `RX ${rx - t1} ns after the send`);
        assert.ok(rx > previous, "not the stamp of an earlier datagram");
        previous = rx;
        // The reply goes to the sender.
        assert.ok(server.replyToOne(Uint8Array.of(9, round)));
        assert.ok(await client.waitReadable());
        assert.deepEqual([...client.receive()!.data], [9, round]);
        assert.equal(server.hasWaiting(), false);
        // Two more read in one batch (SO_TIMESTAMPNS on for it), then Deno reads again.
        const t2 = realtime();
        client.send(Uint8Array.of(round, 2), "127.0.0.1", port);
        client.send(Uint8Array.of(round, 3), "127.0.0.1", port);
        for (let tries = 0; tries < 100 && !server.hasWaiting(); tries++) {
          await new Promise((r) => setTimeout(r, 1));
        }
        assert.ok(server.hasWaiting());
        let n = 0;
        for (let tries = 0; tries < 100 && n < 2; tries++) n += server.receiveBatch(batch);
        assert.equal(n, 2);
        for (let i = 0; i < 2; i++) {
          assert.equal(batch.kernelRx[i], 1);
          assert.ok(batch.rx[i] >= t2 && batch.rx[i] <= realtime());
          previous = batch.rx[i];
        }
      }
    } finally {
      server.close();
      client.close();
    }
  },
});

Deno.test({
  name:
    "shared socket: a restamped reply carries the clock read just before its send; the probe of an idle path sends nothing",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const server = KernelSocket.openShared("127.0.0.1", 0, { scale });
    const client = KernelSocket.open("127.0.0.1", 0, { scale });
    const one = new CookedBatch(1, 1);
    try {
      for (const idleMs of [20, 0]) {
        await new Promise((r) => setTimeout(r, idleMs));
        client.send(new Uint8Array(48), "127.0.0.1", server.local.port);
        assert.ok(await server.receiveOne(one));
        const reply = new Uint8Array(48).fill(0xff);
        const before = realtime();
        assert.ok(server.replyToOne(reply, one));
        const after = realtime();
        assert.ok(await client.waitReadable());
        const got = client.receive()!;
        assert.equal(got.data.length, 48);
        assert.deepEqual([...got.data.subarray(0, 40)], new Array(40).fill(0xff));
        const view = new DataView(got.data.buffer, got.data.byteOffset);
        assert.equal(view.getUint32(44) & 1, 0, "a transmit time ends in 0 (interleaved flag)");
        const ntpSeconds = BigInt(view.getUint32(40)) - 2_208_988_800n;
        const tx = ntpSeconds * 1_000_000_000n +
          (BigInt(view.getUint32(44)) * 1_000_000_000n >> 32n);
        assert.ok(tx >= before - 1n && tx <= after, `TX ${tx - before} ns after the reading`);
        // Exactly one datagram: the probe (after the idle gap) put nothing on the wire.
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(client.receive(), null);
        // Without a batch (a MAC'd reply), the octets go out as they are.
        client.send(new Uint8Array(48), "127.0.0.1", server.local.port);
        assert.ok(await server.receiveOne(one));
        assert.ok(server.replyToOne(new Uint8Array(48).fill(7)));
        assert.ok(await client.waitReadable());
        assert.deepEqual([...client.receive()!.data], new Array(48).fill(7));
      }
    } finally {
      server.close();
      client.close();
    }
  },
});

Deno.test({
  name: "shared socket: close ends a pending receive; options needing a plain socket refused",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const server = KernelSocket.openShared("127.0.0.1", 0, { scale });
    const pending = server.receiveOne(new CookedBatch(1, 1));
    server.close();
    assert.equal(await pending, null);
    assert.throws(() => KernelSocket.openShared("127.0.0.1", 0, { scale, configure: () => {} }));
    assert.throws(() => KernelSocket.openShared("127.0.0.1", 0, { scale, txTimestamps: true }));
  },
});

Deno.test("parseDottedQuad agrees with ipBytes on seeded random and edge-case text", () => {
  const out = new Uint8Array(4);
  const cases = [
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1..2.3",
    ".1.2.3",
    "1.2.3.",
    "1234.1.1.1",
    "a.b.c.d",
    "",
    "::1",
    "127.0.0.1",
  ];
  let seed = 17;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const alphabet = "0123456789.:a";
  for (let i = 0; i < 5000; i++) {
    let s = "";
    const len = Math.floor(random() * 16);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(random() * alphabet.length)];
    cases.push(s);
  }
  for (const text of cases) {
    const expected = text.includes(":") ? null : ipBytes(text);
    const ok = parseDottedQuad(text, out);
    assert.equal(ok, expected !== null, text);
    if (ok) assert.deepEqual([...out], [...expected!], text);
  }
});
