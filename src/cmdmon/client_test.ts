import assert from "node:assert/strict";
import { CmdmonClient } from "./client.ts";
import { encodeReply } from "./codec.ts";
import { REQ, RPY, STT } from "./constants.ts";
import { startCommandServer } from "./server_io.ts";
import { silentLog } from "../base/ports.ts";
import { FakeControl } from "../../tests/helpers/fake_control.ts";

Deno.test("client retries with a new sequence, ignores foreign replies, counts attempts", async () => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const attempts: number[] = [];
  const sequences = new Set<number>();
  const daemon = (async () => {
    try {
      for await (const [data, addr] of conn) {
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const attempt = dv.getUint16(6);
        const sequence = dv.getUint32(8);
        attempts.push(attempt);
        sequences.add(sequence);
        if (attempt === 0) continue; // lost
        const reply = (seq: number) =>
          encodeReply({
            command: REQ.N_SOURCES,
            reply: RPY.N_SOURCES,
            status: STT.SUCCESS,
            sequence: seq,
            data: { nSources: 7 },
          });
        await conn.send(reply(sequence ^ 1), addr); // wrong sequence: must be ignored
        await conn.send(reply(sequence), addr);
      }
    } catch {
      // closed
    }
  })();
  const client = new CmdmonClient({
    addresses: [{ kind: "udp", hostname: "127.0.0.1", port }],
    timeoutMs: 100,
    retries: 2,
  });
  try {
    const reply = await client.request(REQ.N_SOURCES);
    assert.ok(reply !== null && reply.reply === RPY.N_SOURCES);
    assert.equal(reply.data.nSources, 7);
    assert.deepEqual(attempts, [0, 1]);
    assert.equal(sequences.size, 2);
  } finally {
    await client.close();
    conn.close();
    await daemon;
  }
});

Deno.test("client gives up after retries and falls through the address list", async () => {
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/d.sock`;
  const control = new FakeControl();
  const server = await startCommandServer(
    { udpHosts: [], port: 0, socketPath: socket, allowUdp: () => false },
    control,
    silentLog,
  );
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const client = new CmdmonClient({
    addresses: [
      { kind: "unix", path: `${dir}/missing.sock` },
      { kind: "udp", hostname: "127.0.0.1", port: (silent.addr as Deno.NetAddr).port },
      { kind: "unix", path: socket },
    ],
    timeoutMs: 50,
    retries: 1,
  });
  try {
    const t0 = Date.now();
    const reply = await client.request(REQ.MAKESTEP);
    assert.ok(reply !== null);
    assert.equal(reply.header.status, STT.SUCCESS, "Unix socket has full access");
    assert.ok(Date.now() - t0 >= 140, "waited 50 + 100 ms on the silent address");
    assert.deepEqual(control.methods(), ["makeStepNow"]);
    const second = await client.request(REQ.TRACKING);
    assert.equal(second?.header.reply, RPY.TRACKING);
  } finally {
    await client.close();
    silent.close();
    await server.close();
  }
  const left = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(left, [], "server socket and client directories removed");
  await Deno.remove(dir, { recursive: true });
  const none = new CmdmonClient({ addresses: [], timeoutMs: 10, retries: 0 });
  assert.equal(await none.request(REQ.TRACKING), null);
});

Deno.test("UDP server: loopback allowed, others by the access function; reply is sent", async () => {
  const control = new FakeControl();
  const asked: string[] = [];
  const hits: Array<string | null> = [];
  const server = await startCommandServer(
    {
      udpHosts: ["127.0.0.1"],
      port: 0,
      socketPath: null,
      allowUdp: (a) => {
        asked.push(a);
        return false;
      },
      onCommand: (a) => hits.push(a),
    },
    control,
    silentLog,
  );
  const client = new CmdmonClient({
    addresses: [{ kind: "udp", hostname: "127.0.0.1", port: server.udpPorts.get("127.0.0.1")! }],
    timeoutMs: 200,
    retries: 0,
  });
  try {
    const reply = await client.request(REQ.TRACKING);
    assert.equal(reply?.header.reply, RPY.TRACKING);
    const denied = await client.request(REQ.SHUTDOWN);
    assert.equal(denied?.header.status, STT.UNAUTH);
    assert.deepEqual(asked, [], "loopback never consults cmdallow");
    assert.deepEqual(hits, ["127.0.0.1", "127.0.0.1"]);
    assert.ok(!control.methods().includes("shutdown"));
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("server creates a missing socket directory 0750 and replaces a stale socket", async () => {
  const base = await Deno.makeTempDir();
  const socket = `${base}/run/tempus.sock`;
  const first = await startCommandServer(
    { udpHosts: [], port: 0, socketPath: socket, allowUdp: () => false },
    new FakeControl(),
    silentLog,
  );
  try {
    assert.equal((await Deno.stat(`${base}/run`)).mode! & 0o777, 0o750);
    assert.equal((await Deno.stat(socket)).mode! & 0o777, 0o666);
  } finally {
    await first.close();
  }
  // A stale socket file left behind (daemon killed) does not stop the next start.
  const stale = Deno.listenDatagram({ transport: "unixpacket", path: socket });
  stale.close();
  const second = await startCommandServer(
    { udpHosts: [], port: 0, socketPath: socket, allowUdp: () => false },
    new FakeControl(),
    silentLog,
  );
  const client = new CmdmonClient({
    addresses: [{ kind: "unix", path: socket }],
    timeoutMs: 200,
    retries: 0,
  });
  try {
    const reply = await client.request(REQ.N_SOURCES);
    assert.ok(reply !== null && reply.reply === RPY.N_SOURCES);
    assert.equal(reply.data.nSources, 2);
  } finally {
    await client.close();
    await second.close();
    await Deno.remove(base, { recursive: true });
  }
});
