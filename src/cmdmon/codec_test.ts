import assert from "node:assert/strict";
import { decodeReply, decodeRequestHeader, encodeReply, encodeRequest } from "./codec.ts";
import { REQ, RPY, STT } from "./constants.ts";
import { formatIpAddr, parseIpAddr } from "./ip_addr.ts";
import { readTimespec, writeTimespec } from "./layout.ts";
import { requestLength } from "./messages.ts";
import type { RequestCode, RequestData } from "./requests.ts";

function req<C extends RequestCode>(command: C, data: Partial<RequestData<C>>) {
  return { command, packet: encodeRequest({ command, sequence: 1, data }) };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("Timespec: 64-bit seconds, nanoseconds, and the 0x7fffffff high word", () => {
  const dv = new DataView(new ArrayBuffer(12));
  const t = 1795514400_250_000_000n;
  writeTimespec(dv, 0, t);
  assert.equal(dv.getUint32(0), 0);
  assert.equal(dv.getUint32(4), 1795514400);
  assert.equal(dv.getUint32(8), 250_000_000);
  assert.equal(readTimespec(dv, 0), t);
  dv.setUint32(0, 0x7fffffff);
  assert.equal(readTimespec(dv, 0), t);
  writeTimespec(dv, 0, 5_000_000_000n * 1_000_000_000n); // beyond 2106
  assert.equal(dv.getUint32(0), 1);
  assert.equal(readTimespec(dv, 0), 5_000_000_000n * 1_000_000_000n);
});

Deno.test("IP addresses parse and print like inet_ntop", () => {
  for (const text of ["192.0.2.1", "::1", "2001:db8::7", "fe80::1:2", "::ffff:1.2.3.4", "1::"]) {
    const ip = parseIpAddr(text);
    assert.ok(ip !== null, text);
    assert.equal(formatIpAddr(ip), text);
  }
  assert.equal(formatIpAddr(parseIpAddr("2001:0db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
  assert.equal(parseIpAddr("1.2.3"), null);
  assert.equal(parseIpAddr("hello"), null);
  assert.equal(parseIpAddr("1:2:3:4:5:6:7:8:9"), null);
});

Deno.test("requests are byte-identical to chronyc 4.3's", () => {
  // Data after the 20-byte header, captured from chronyc 4.3 with a UDP listener.
  const cases: Array<[{ command: number; packet: Uint8Array }, string, number]> = [
    [req(REQ.MODIFY_MAKESTEP, { limit: 3, threshold: 0.1 }), "00000003fccccccd", 28],
    [
      req(REQ.ALLOW, { ip: parseIpAddr("1.2.3.0")!, subnetBits: 24 }),
      "010203000000000000000000000000000001000000000018",
      44,
    ],
    [
      req(REQ.OFFLINE, { mask: parseIpAddr("255.255.255.0")!, address: parseIpAddr("1.2.3.0")! }),
      "ffffff00000000000000000000000000000100000102030000000000000000000000000000010000",
      60,
    ],
    [
      req(REQ.SETTIME, { ts: 0x6b05bb88n * 1_000_000_000n }),
      "000000006b05bb880000000000000000",
      40,
    ],
    [
      req(REQ.LOCAL2, { onOff: 1, stratum: 3, distance: 1.0, orphan: 0 }),
      "00000001000000030480000000000000",
      36,
    ],
  ];
  for (const [{ command, packet }, expected, length] of cases) {
    assert.equal(packet.length, length, `command ${command}`);
    assert.equal(hex(packet.subarray(20)).slice(0, expected.length), expected);
    assert.ok(packet.subarray(20 + expected.length / 2).every((b) => b === 0));
    const h = decodeRequestHeader(packet);
    assert.ok(h.ok);
    assert.equal(h.header.command, command);
    assert.equal(h.header.version, 6);
  }
});

Deno.test("replies round trip and decoding rejects short or unknown replies", () => {
  const packet = encodeReply({
    command: REQ.ACTIVITY,
    reply: RPY.ACTIVITY,
    status: STT.SUCCESS,
    sequence: 0xdeadbeef,
    data: { online: 3, offline: 2, burstOnline: 1, burstOffline: 0, unresolved: 7 },
  });
  assert.equal(packet.length, 48);
  const decoded = decodeReply(packet);
  assert.ok(decoded.ok);
  const r = decoded.reply;
  assert.ok(r.reply === RPY.ACTIVITY);
  assert.equal(r.header.sequence, 0xdeadbeef);
  assert.equal(r.data.online, 3);
  assert.deepEqual(r.data, {
    online: 3,
    offline: 2,
    burstOnline: 1,
    burstOffline: 0,
    unresolved: 7,
  });
  const short = decodeReply(packet.subarray(0, 40));
  assert.ok(!short.ok && short.error.kind === "too-short");
  const unknown = packet.slice();
  unknown[7] = 99;
  const u = decodeReply(unknown);
  assert.ok(!u.ok && u.error.kind === "unknown-reply");
  assert.ok(!decodeReply(new Uint8Array(5)).ok);
});

Deno.test("data is typed by its code both ways: misspelt or missing fields do not compile", () => {
  const packet = encodeReply({
    command: REQ.N_SOURCES,
    reply: RPY.N_SOURCES,
    status: STT.SUCCESS,
    sequence: 1,
    data: { nSources: 3 },
  });
  const decoded = decodeReply(packet);
  assert.ok(decoded.ok && decoded.reply.reply === RPY.N_SOURCES);
  assert.equal(decoded.reply.data.nSources, 3);
  // @ts-expect-error: RPY_N_Sources has no field "nSource"
  assert.equal(decoded.reply.data.nSource, undefined);
  // @ts-expect-error: a reply must carry every field of its layout
  encodeReply({ command: REQ.N_SOURCES, reply: RPY.N_SOURCES, status: 0, sequence: 1, data: {} });
  // @ts-expect-error: REQ_Source_Data has no field "idx"
  const request = encodeRequest({ command: REQ.SOURCE_DATA, sequence: 1, data: { idx: 2 } });
  assert.equal(request.length, requestLength(REQ.SOURCE_DATA));
});
