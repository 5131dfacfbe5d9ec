import assert from "node:assert/strict";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { KernelSocket, kernelSocketsAvailable } from "./kernel_socket.ts";

const realtime = systemTimeSource().realtime;

Deno.test({
  name: "kernel socket: TX and RX timestamps are cooked once, onto the given scale",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    // A raw scale 10 s behind CLOCK_REALTIME, cooked 3 ms ahead of raw.
    const scale = {
      rawNow: () => realtime() - 10_000_000_000n,
      cook: (raw: bigint) => raw + 3_000_000n,
    };
    const a = KernelSocket.open("127.0.0.1", 0, { scale, txTimestamps: true });
    const b = KernelSocket.open("127.0.0.1", 0, { scale });
    try {
      const before = scale.cook(scale.rawNow());
      const sent = a.sendStamped(Uint8Array.of(1, 2, 3), "127.0.0.1", b.local.port);
      assert.equal(sent.error, null);
      assert.ok(sent.tx !== null, "a kernel TX timestamp");
      assert.ok(await b.waitReadable());
      const got = b.receive();
      const after = scale.cook(scale.rawNow());
      assert.ok(got !== null);
      assert.deepEqual([...got.data], [1, 2, 3]);
      assert.equal(got.address, "127.0.0.1");
      assert.equal(got.port, a.local.port);
      assert.equal(got.kernelRx, true);
      assert.ok(sent.tx >= before, `TX ${sent.tx - before} ns after the start`);
      // On loopback the kernel may stamp the arrival a few µs before its software TX stamp
      // (the datagram is delivered inside the transmit call): both are the kernel's.
      const rxAfterTx = got.rx - sent.tx;
      assert.ok(rxAfterTx > -50_000n && rxAfterTx < 50_000_000n, `RX ${rxAfterTx} ns after TX`);
      assert.ok(got.rx <= after, "RX no later than the read");
      assert.equal(b.receive(), null, "drained");
      assert.equal(a.send(Uint8Array.of(1), "not-an-ip", 9), "not an IP address");
    } finally {
      a.close();
      b.close();
    }
    assert.equal(await b.waitReadable(), false, "closed");
  },
});
