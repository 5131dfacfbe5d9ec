/**
 * e2e: a bounded flood of malformed and valid requests from 64 loopback addresses against a
 * server with a 16-record client table. The server keeps answering, its client table stays
 * at its limit (evictions counted as log drops), its RSS does not keep growing, and every
 * reply is a 48-octet answer no longer than its request.
 */
import assert from "node:assert/strict";
import { emptyPacket, encodePacket } from "../../src/ntp/packet.ts";
import { seededRandom } from "../helpers/random.ts";
import { clientRequest, ReplyCollector, startFixture } from "./fixtures/fixture_process.ts";

const CLIENTS = 64;
const PER_CLIENT = 40;
const PHASES = 3;

interface Stats {
  received: number;
  replied: number;
  malformed: number;
  clients: number;
  capacity: number;
  logDrops: number;
  rss: number;
}

/** Builds request `i` of a client: 3 in 8 valid (plain, with extension field, with MAC). */
function makeRequest(i: number, tag: bigint, rnd: () => number): Uint8Array {
  switch (i % 8) {
    case 0:
      return clientRequest(tag);
    case 1: {
      const p = emptyPacket(3);
      p.transmitTime = tag;
      p.extensions = [{ type: 0x0104, value: new Uint8Array(24) }];
      return encodePacket(p);
    }
    case 2: {
      const p = emptyPacket(3);
      p.transmitTime = tag;
      p.mac = { keyId: 1, digest: new Uint8Array(20) };
      return encodePacket(p);
    }
    case 3:
      return new Uint8Array(47).fill(0x23); // too short
    case 4: {
      const b = clientRequest(tag);
      b[0] = (b[0] & 0xf8) | 6; // mode 6
      return b;
    }
    case 5:
      return new Uint8Array([...clientRequest(tag), 1, 2]); // length not a multiple of 4
    default: {
      const b = new Uint8Array(Math.floor(rnd() * 200));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length > 0) b[0] = (b[0] & 0xf8) | 7; // never a client request
      return b;
    }
  }
}

Deno.test("server e2e: flood of malformed and valid requests stays bounded", async () => {
  const server = await startFixture([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--clientloglimit",
    "2048",
    "--stats-ms",
    "100",
  ]);
  const socks: Deno.DatagramConn[] = [];
  const collectors: ReplyCollector[] = [];
  let latest: Stats | null = null;
  const reader = (async () => {
    for (;;) {
      const line = await server.nextLine();
      if (line === null) return;
      latest = JSON.parse(line) as Stats;
    }
  })();
  try {
    for (let c = 0; c < CLIENTS; c++) {
      const s = Deno.listenDatagram({ transport: "udp", hostname: `127.0.3.${c + 1}`, port: 0 });
      socks.push(s);
      collectors.push(new ReplyCollector(s));
    }
    const to = { transport: "udp" as const, hostname: server.host, port: server.port };
    const sentLength = new Map<bigint, number>();
    const rnd = seededRandom(77);
    let validSent = 0;
    const rss: number[] = [];
    let tag = 0x1000n;
    for (let phase = 0; phase < PHASES; phase++) {
      for (let i = 0; i < PER_CLIENT; i++) {
        for (let c = 0; c < CLIENTS; c++) {
          tag++;
          const req = makeRequest(i, tag, rnd);
          if (i % 8 < 3) {
            sentLength.set(tag, req.length);
            validSent++;
          }
          await socks[c].send(req, to);
        }
      }
      // Wait until the replies stop coming, then read the server's statistics.
      let last = -1;
      for (let k = 0; k < 100; k++) {
        await new Promise((r) => setTimeout(r, 150));
        const n = collectors.reduce((a, col) => a + col.replies.length, 0);
        if (n === last) break;
        last = n;
      }
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(latest !== null, "no stats from the server");
      rss.push((latest as Stats).rss);
    }
    const replies = collectors.flatMap((col) => col.replies);
    // A loaded machine drops some of the flood in socket buffers; a good share must still be answered.
    assert.ok(replies.length >= validSent * 0.25, `${replies.length} replies to ${validSent}`);
    assert.ok(replies.length <= validSent, "more replies than valid requests");
    for (const r of replies) {
      assert.ok(r.packet !== null, "undecodable reply");
      const reqLen = sentLength.get(r.packet.originTime);
      assert.ok(reqLen !== undefined, "reply to an unknown request");
      assert.equal(r.data.length, 48);
      assert.ok(r.data.length <= reqLen);
    }
    const s = latest as unknown as Stats;
    assert.equal(s.clients, s.capacity, "client table at its limit");
    assert.equal(s.capacity, 16);
    assert.ok(s.logDrops > CLIENTS, `log drops ${s.logDrops}`);
    assert.ok(s.malformed > 0);
    // RSS after the last phase may not exceed the first phase's by more than 32 MB.
    assert.ok(rss[PHASES - 1] - rss[0] < 32 * 1024 * 1024, `RSS ${rss.join(" -> ")}`);
    // Still answering.
    const probe = clientRequest(0xabcdefn);
    const before = collectors[0].replies.length;
    await socks[0].send(probe, to);
    assert.ok((await collectors[0].waitFor(before + 1, 2000)) > before, "server stopped answering");
  } finally {
    for (const s of socks) s.close();
    await Promise.all(collectors.map((c) => c.done));
    await server.stop();
    await reader;
  }
});
