import assert from "node:assert/strict";
import { canBind } from "./peers.ts";
import { nativeRelayArgs, nativeRelayAvailable, startNativeRelay } from "./native_relay.ts";
import type { ImpairRelayOptions } from "./impair_relay.ts";

const HAVE_GCC = nativeRelayAvailable();
if (!HAVE_GCC) console.log("native_relay_test: gcc not installed, the native relay tests skip");

/** A UDP echo server on loopback. */
function echoServer(): { port: number; close(): Promise<void> } {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const loop = (async () => {
    try {
      for await (const [data, addr] of socket) await socket.send(data, addr);
    } catch {
      // closed
    }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    async close() {
      socket.close();
      await loop;
    },
  };
}

/** Sends `count` numbered datagrams one after another; the round trip of each (null: lost). */
async function roundTrips(
  port: number,
  count: number,
  timeoutMs = 200,
  socket?: Deno.DatagramConn,
): Promise<(number | null)[]> {
  const own = socket ?? Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const out: (number | null)[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const payload = new Uint8Array(48).fill(i);
      const t0 = performance.now();
      await own.send(payload, { transport: "udp", hostname: "127.0.0.1", port });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        own.receive(),
        new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs)),
      ]);
      clearTimeout(timer);
      if (got === null) {
        out.push(null);
        // A late reply would be taken for the next one: the socket is replaced.
        if (socket === undefined) break;
        continue;
      }
      assert.equal(got[0][0], i, "reply to this request");
      out.push(performance.now() - t0);
    }
  } finally {
    if (socket === undefined) own.close();
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function withRelay(
  extra: Omit<ImpairRelayOptions, "upstreamHost" | "upstreamPort">,
  body: (port: number, relay: Awaited<ReturnType<typeof startNativeRelay>>) => Promise<void>,
): Promise<void> {
  const echo = echoServer();
  const relay = await startNativeRelay({
    upstreamHost: "127.0.0.1",
    upstreamPort: echo.port,
    ...extra,
  });
  try {
    await body(relay.port, relay);
  } finally {
    await relay.close();
    await echo.close();
  }
}

Deno.test("native relay: options become the C relay's arguments", () => {
  const args = nativeRelayArgs({
    upstreamHost: "127.0.0.1",
    upstreamPort: 123,
    up: { baseDelayMs: 0.1, jitterMs: 0.2, loss: 0.3 },
    windows: [{ kind: "congestion", startS: 1, endS: 2, extraDelayMs: [20, 50], direction: "up" }],
    seed: 7,
  });
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value("--up"), "0.1,0.2,0.3");
  assert.equal(value("--down"), "0,0,0");
  assert.equal(value("--upstream-port"), "123");
  assert.equal(value("--seed"), "7");
  assert.equal(value("--window"), "congestion,1,2,up,20,50");
});

Deno.test({
  name: "native relay: 2 ms each way gives 4.0-4.5 ms round trips, counted",
  ignore: !HAVE_GCC,
  async fn() {
    await withRelay({ up: { baseDelayMs: 2 }, down: { baseDelayMs: 2 } }, async (port, relay) => {
      const rtts = await roundTrips(port, 20);
      assert.ok(rtts.every((r) => r !== null), `all answered: ${rtts}`);
      const m = median(rtts as number[]);
      assert.ok(Math.min(...(rtts as number[])) >= 4.0, `no round trip under 4 ms: ${rtts}`);
      assert.ok(m >= 4.0 && m <= 4.5, `median ${m.toFixed(3)} ms in 4.0-4.5`);
      await relay.close();
      assert.deepEqual(
        [relay.stats.upReceived, relay.stats.upSent, relay.stats.downReceived],
        [20, 20, 20],
      );
      assert.equal(relay.stats.downSent, 20);
      assert.equal(relay.stats.lost + relay.stats.outageDropped + relay.stats.overflowDropped, 0);
      assert.equal(relay.timing.sendErrors, 0);
      // Sent at the due time, not a timer tick later.
      assert.ok(relay.timing.upLateMeanUs < 200, `up lateness ${relay.timing.upLateMeanUs} µs`);
      assert.ok(relay.timing.downLateMeanUs < 200, `down ${relay.timing.downLateMeanUs} µs`);
    });
  },
});

Deno.test({
  name: "native relay: every client address gets its own link and its own replies",
  ignore: !HAVE_GCC,
  async fn() {
    await withRelay({ maxClients: 3 }, async (port, relay) => {
      // Five clients, each from its own port, more than maxClients: the oldest links go.
      const sockets = Array.from(
        { length: 5 },
        () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
      );
      try {
        for (const s of sockets) {
          const [rtt] = await roundTrips(port, 1, 500, s);
          assert.ok(rtt !== null, "answered through its own link");
        }
      } finally {
        for (const s of sockets) s.close();
      }
      await relay.close();
      assert.equal(relay.stats.upReceived, 5);
      assert.equal(relay.stats.downSent, 5);
      assert.equal(relay.stats.evicted, 2);
    });
  },
});

Deno.test({
  name: "native relay: loss 1.0 drops every packet and counts it",
  ignore: !HAVE_GCC,
  async fn() {
    await withRelay({ up: { loss: 1 } }, async (port, relay) => {
      const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      try {
        const rtts = await roundTrips(port, 10, 50, socket);
        assert.deepEqual(rtts, Array(10).fill(null));
      } finally {
        socket.close();
      }
      await relay.close();
      assert.equal(relay.stats.upReceived, 10);
      assert.equal(relay.stats.lost, 10);
      assert.equal(relay.stats.upSent, 0);
      assert.equal(relay.stats.downReceived, 0);
    });
  },
});

Deno.test({
  name: "native relay: an outage window drops and counts, congestion adds its delay",
  ignore: !HAVE_GCC,
  async fn() {
    await withRelay(
      { windows: [{ kind: "outage", startS: 0, endS: 0.5, direction: "down" }] },
      async (port, relay) => {
        const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
        try {
          assert.deepEqual(await roundTrips(port, 5, 50, socket), Array(5).fill(null));
          await new Promise((r) => setTimeout(r, 300)); // past the window
          const after = await roundTrips(port, 3, 200, socket);
          assert.ok(after.every((r) => r !== null), `answered after the outage: ${after}`);
        } finally {
          socket.close();
        }
        await relay.close();
        assert.equal(relay.stats.outageDropped, 5);
        assert.equal(relay.stats.upSent, 8, "the outage was on the way down only");
        assert.equal(relay.stats.downSent, 3);
      },
    );
    await withRelay(
      { windows: [{ kind: "congestion", startS: 0, endS: 100, extraDelayMs: [3, 3] }] },
      async (port) => {
        const rtts = await roundTrips(port, 5);
        assert.ok(rtts.every((r) => r !== null && r >= 6), `3 ms extra each way: ${rtts}`);
      },
    );
  },
});

Deno.test({
  name: "native relay: close() ends the process and frees its port",
  ignore: !HAVE_GCC,
  async fn() {
    const relay = await startNativeRelay({ upstreamHost: "127.0.0.1", upstreamPort: 9 });
    assert.ok(!canBind("127.0.0.1", relay.port), "the relay holds its port");
    await relay.close();
    await relay.close(); // idempotent
    assert.ok(canBind("127.0.0.1", relay.port), "port free after close");
  },
});
