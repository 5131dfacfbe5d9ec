import assert from "node:assert/strict";
import type { Instant } from "../base/time.ts";
import { silentLog } from "../base/ports.ts";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import { DEFAULT_CLIENT_SEND_TIMING } from "../core/client_send_timing.ts";
import { waitFor } from "../../tests/helpers/peers.ts";
import {
  KernelClientTransport,
  type KernelClientTransportOptions,
} from "./kernel_client_transport.ts";
import { kernelSocketsAvailable } from "./kernel_socket.ts";

const realtimeNow = systemTimeSource().realtime;

/** A one-shot echo server on 127.0.0.1 that answers every datagram with its own bytes. */
function echoServer(): { port: number; close: () => void; done: Promise<void> } {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    try {
      for await (const [data, addr] of server) await server.send(data, addr);
    } catch {
      // closed
    }
  })();
  return { port: (server.addr as Deno.NetAddr).port, close: () => server.close(), done };
}

function transport(extra: Partial<KernelClientTransportOptions>) {
  const got: { id: number; bytes: Uint8Array; rx: Instant }[] = [];
  const transmitted: { id: number; tx: Instant }[] = [];
  const failed: number[] = [];
  const t = new KernelClientTransport({
    clock: { rawNow: realtimeNow, cook: (raw) => raw },
    deliver: (id, bytes, rx) => got.push({ id, bytes, rx }),
    replyWaitSeconds: 1,
    timing: DEFAULT_CLIENT_SEND_TIMING,
    log: silentLog,
    onTransmitted: (id, tx) => transmitted.push({ id, tx }),
    onSendFailed: (id) => failed.push(id),
    ...extra,
  });
  return { t, got, transmitted, failed };
}

Deno.test({
  name: "kernel client transport: deferred send, kernel TX and RX timestamps, reply delivered",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const echo = echoServer();
    const { t, got, transmitted, failed } = transport({});
    try {
      const before = realtimeNow();
      const packet = new Uint8Array(48).fill(7);
      assert.equal(t.send(41, { address: "127.0.0.1", port: echo.port }, packet), true);
      // Nothing is reported in the engine's turn: the datagram leaves in a microtask.
      assert.equal(transmitted.length, 0);
      await Promise.resolve();
      assert.equal(transmitted.length, 1, "the TX timestamp right after the microtask send");
      await waitFor(() => got.length === 1, 2000, "the reply");
      assert.deepEqual([...got[0].bytes], [...packet]);
      assert.equal(got[0].id, 41);
      assert.equal(transmitted[0].id, 41);
      const tx = transmitted[0].tx;
      const rx = got[0].rx;
      // Kernel times: after the call started, the reply after the request.
      assert.ok(tx >= before - 2_000_000n, `tx ${tx - before} ns`);
      assert.ok(rx > tx, "reply after request");
      assert.ok(rx - tx < 50_000_000n, `round trip ${rx - tx} ns`);
      assert.deepEqual(failed, []);
    } finally {
      t.close();
      echo.close();
      await echo.done;
    }
  },
});

Deno.test({
  name: "kernel client transport: a deferred send that fails goes to onSendFailed",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const { t, failed, transmitted } = transport({});
    try {
      // The limited broadcast address without SO_BROADCAST: sendto fails (EACCES).
      assert.equal(t.send(7, { address: "255.255.255.255", port: 123 }, new Uint8Array(48)), true);
      await waitFor(() => failed.length === 1, 2000, "the failure");
      assert.deepEqual(failed, [7]);
      assert.equal(transmitted.length, 0);
      assert.equal(t.openSockets, 0);
    } finally {
      t.close();
    }
  },
});

Deno.test({
  name: "kernel client transport: without TX timestamps the send is synchronous",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const echo = echoServer();
    const { t, got, failed } = transport({ onTransmitted: undefined });
    try {
      assert.equal(t.send(1, { address: "255.255.255.255", port: 123 }, new Uint8Array(48)), false);
      assert.equal(t.send(2, { address: "127.0.0.1", port: echo.port }, new Uint8Array(48)), true);
      await waitFor(() => got.length === 1, 2000, "the reply");
      assert.deepEqual(failed, []);
    } finally {
      t.close();
      echo.close();
      await echo.done;
    }
  },
});

Deno.test({
  name: "kernel client transport: close right after send leaves no timer or socket behind",
  ignore: !kernelSocketsAvailable(),
  fn() {
    const { t, transmitted } = transport({});
    assert.equal(t.send(3, { address: "127.0.0.1", port: 9 }, new Uint8Array(48)), true);
    t.close();
    assert.equal(t.openSockets, 0);
    assert.equal(transmitted.length, 0);
    // The test sanitizers fail the test if a timer or an op is still pending here.
  },
});

Deno.test({
  name: "kernel client transport: timestamps are cooked at their own instant (rawNow/cook)",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    const echo = echoServer();
    // A raw scale 5 s ahead of CLOCK_REALTIME and a cooked scale that is the raw one plus
    // 1 ms plus 1000 ppm of the raw time since `base` (a slew in progress).
    const base = realtimeNow() + 5_000_000_000n;
    const rawNow = () => realtimeNow() + 5_000_000_000n;
    const cookRaw = (raw: Instant) => raw + 1_000_000n + (raw - base) / 1000n;
    const { t, got, transmitted } = transport({ clock: { rawNow, cook: cookRaw } });
    try {
      const before = cookRaw(rawNow());
      t.send(5, { address: "127.0.0.1", port: echo.port }, new Uint8Array(48));
      await waitFor(() => got.length === 1 && transmitted.length === 1, 2000, "reply and TX");
      const after = cookRaw(rawNow());
      for (const v of [transmitted[0].tx, got[0].rx]) {
        assert.ok(v >= before - 1_000_000n && v <= after, `${v - before} ns after the start`);
      }
      assert.ok(got[0].rx > transmitted[0].tx);
    } finally {
      t.close();
      echo.close();
      await echo.done;
    }
  },
});

Deno.test({
  name: "kernel client transport: a new request to a server ends the wait for the previous one",
  ignore: !kernelSocketsAvailable(),
  async fn() {
    // A server that never answers: each request would otherwise wait the full reply time.
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (silent.addr as Deno.NetAddr).port;
    const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const otherPort = (other.addr as Deno.NetAddr).port;
    for (const withTx of [true, false]) {
      const { t } = transport(withTx ? {} : { onTransmitted: undefined });
      try {
        for (let i = 0; i < 20; i++) {
          t.send(i, { address: "127.0.0.1", port }, new Uint8Array(48));
          await new Promise((r) => setTimeout(r, 1));
        }
        assert.equal(t.openSockets, 1, "one outstanding request per server");
        t.send(99, { address: "127.0.0.1", port: otherPort }, new Uint8Array(48));
        assert.equal(t.openSockets, 2, "servers are independent");
      } finally {
        t.close();
      }
    }
    silent.close();
    other.close();
  },
});
