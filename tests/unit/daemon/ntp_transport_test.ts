import assert from "node:assert/strict";
import { UdpClientTransport } from "../../../src/daemon/ntp_transport.ts";
import { silentLog } from "../../../src/core/ports.ts";

Deno.test("client transport: fresh random port per request, replies delivered with rx time", async () => {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const serverPort = (server.addr as Deno.NetAddr).port;
  const seenPorts: number[] = [];
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const [data, from] = await server.receive();
      seenPorts.push((from as Deno.NetAddr).port);
      await server.send(data.map((b) => b ^ 0xff), from);
    }
  })();
  const got: { id: number; bytes: number[]; rx: bigint }[] = [];
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => resolveDone = r);
  let clock = 1000n;
  const transport = new UdpClientTransport({
    deliver: (id, packet, rx) => {
      got.push({ id, bytes: [...packet], rx });
      if (got.length === 2) resolveDone();
    },
    cookedNow: () => clock++,
    log: silentLog,
    replyWaitSeconds: 2,
  });
  try {
    assert.equal(
      transport.send(7, { address: "127.0.0.1", port: serverPort }, new Uint8Array([1, 2])),
      true,
    );
    assert.equal(
      transport.send(8, { address: "127.0.0.1", port: serverPort }, new Uint8Array([3])),
      true,
    );
    await done;
    await serving;
    got.sort((a, b) => a.id - b.id);
    assert.deepEqual(got.map((g) => g.id), [7, 8]);
    assert.deepEqual(got[0].bytes, [0xfe, 0xfd]);
    assert.ok(got.every((g) => g.rx >= 1000n));
    assert.equal(seenPorts.length, 2);
    assert.notEqual(seenPorts[0], seenPorts[1], "each request uses its own source port");
  } finally {
    transport.close();
    server.close();
  }
  assert.equal(transport.openSockets, 0);
});

Deno.test("client transport: replies from another address or port are dropped", async () => {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const intruder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const delivered: number[] = [];
  const transport = new UdpClientTransport({
    deliver: (id) => delivered.push(id),
    cookedNow: () => 0n,
    log: silentLog,
    replyWaitSeconds: 0.5,
  });
  try {
    transport.send(
      1,
      { address: "127.0.0.1", port: (server.addr as Deno.NetAddr).port },
      new Uint8Array([9]),
    );
    const [, from] = await server.receive();
    await intruder.send(new Uint8Array([1]), from); // spoofed source port
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(delivered, []);
    assert.equal(transport.openSockets, 0, "socket closed after the reply wait");
  } finally {
    transport.close();
    server.close();
    intruder.close();
  }
});
