import assert from "node:assert/strict";
import { exchange, UdpClientTransport } from "./udp.ts";
import { UdpServerSocket } from "../../tests/helpers/udp_server_socket.ts";

const wallClock = () => BigInt(Date.now()) * 1_000_000n;

/** Runs an echo server that answers each datagram `copies` times. */
function echoServer(host: string, copies = 1): { server: UdpServerSocket; done: Promise<void> } {
  const server = UdpServerSocket.bind(host, 0);
  const done = (async () => {
    for await (const d of server.datagrams(wallClock)) {
      for (let i = 0; i < copies; i++) await server.send(d.data, d.from);
    }
  })();
  return { server, done };
}

Deno.test("exchange: fresh source port per request, reply with receive time", async () => {
  const { server, done } = echoServer("127.0.0.1");
  try {
    const to = server.localAddress;
    const a = await exchange(to, Uint8Array.of(1, 2, 3), { clock: wallClock, timeoutMs: 2000 });
    const b = await exchange(to, Uint8Array.of(4), { clock: wallClock, timeoutMs: 2000 });
    assert.ok(a.accepted && b.accepted);
    assert.deepEqual([...a.replies[0].data], [1, 2, 3]);
    assert.ok(a.replies[0].receivedAt >= a.sentAt);
    assert.notEqual(a.localPort, 0);
    assert.notEqual(a.localPort, b.localPort);
    assert.equal(a.sendError, null);
  } finally {
    server.close();
    await done;
  }
});

Deno.test("exchange: accept() sees duplicates and decides when to stop", async () => {
  const { server, done } = echoServer("127.0.0.1", 3);
  try {
    let seen = 0;
    const r = await exchange(server.localAddress, Uint8Array.of(9), {
      clock: wallClock,
      timeoutMs: 300,
      accept: () => ++seen === 3,
    });
    assert.equal(r.replies.length, 3);
    assert.ok(r.accepted);
  } finally {
    server.close();
    await done;
  }
});

Deno.test("exchange: times out against a silent socket", async () => {
  const silent = UdpServerSocket.bind("127.0.0.1", 0);
  try {
    const start = Date.now();
    const r = await exchange(silent.localAddress, Uint8Array.of(1), {
      clock: wallClock,
      timeoutMs: 150,
    });
    const took = Date.now() - start;
    assert.equal(r.accepted, false);
    assert.equal(r.replies.length, 0);
    assert.ok(took >= 140 && took < 1500, `took ${took} ms`);
  } finally {
    silent.close();
  }
});

Deno.test("exchange over IPv6 loopback", async () => {
  let server: UdpServerSocket;
  try {
    server = UdpServerSocket.bind("::1", 0);
  } catch {
    return; // no IPv6 loopback on this host
  }
  const done = (async () => {
    for await (const d of server.datagrams(wallClock)) await server.send(d.data, d.from);
  })();
  try {
    const r = await exchange(server.localAddress, Uint8Array.of(6), {
      clock: wallClock,
      timeoutMs: 2000,
    });
    assert.ok(r.accepted);
    assert.equal(r.replies[0].from.address, "::1");
  } finally {
    server.close();
    await done;
  }
});

Deno.test("UdpClientTransport hands replies to the callback with the request id", async () => {
  const { server, done } = echoServer("127.0.0.1");
  const got: Array<[number, number]> = [];
  const transport = new UdpClientTransport(wallClock, (id, packet) => {
    got.push([id, packet[0]]);
  }, 300);
  try {
    assert.ok(transport.send(17, server.localAddress, Uint8Array.of(42)));
    await transport.drain();
    assert.deepEqual(got, [[17, 42]]);
  } finally {
    server.close();
    await done;
  }
});

Deno.test("UdpClientTransport can use an injected exchange", async () => {
  const { server, done } = echoServer("127.0.0.1");
  const got: number[] = [];
  let calls = 0;
  const transport = new UdpClientTransport(
    wallClock,
    (id) => {
      got.push(id);
    },
    200,
    (to, request, options) => {
      calls++;
      return exchange(to, request, options);
    },
  );
  try {
    assert.ok(transport.send(5, server.localAddress, Uint8Array.of(1)));
    await transport.drain();
    assert.equal(calls, 1);
    assert.deepEqual(got, [5]);
  } finally {
    server.close();
    await done;
  }
});
