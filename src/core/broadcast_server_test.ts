import assert from "node:assert/strict";
import { checkPacketAuth } from "../ntp/auth.ts";
import { parseKeyFile } from "../ntp/keyfile.ts";
import { decodePacket } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { broadcastPoll, buildBroadcastPacket } from "./broadcast_server.ts";
import type { ReferenceState } from "./types.ts";

const KEYS = parseKeyFile("3 SHA256 HEX:" + "ab".repeat(32) + "\n").keys;
const T = 1_800_000_000_123_456_789n;

const REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 2,
  refId: 0xc0000201,
  refTime: T - 10_000_000_000n,
  rootDelay: 0.002,
  rootDispersion: 0.001,
  dispersionRate: 1e-5,
  precisionLog2: -24,
};

Deno.test("broadcast packet: mode 5 from the reference, origin/receive zero, tx read once", () => {
  let reads = 0;
  const bytes = buildBroadcastPacket(REF, 64, null, () => {
    reads++;
    return T;
  });
  assert.equal(reads, 1);
  assert.equal(bytes.length, 48);
  const d = decodePacket(bytes);
  assert.ok(d.ok);
  const p = d.packet;
  assert.equal(p.mode, 5);
  assert.equal(p.version, 4);
  assert.equal(p.leap, 0);
  assert.equal(p.stratum, 2);
  assert.equal(p.poll, 6);
  assert.equal(p.precision, -24);
  assert.equal(p.refId, 0xc0000201);
  assert.equal(p.originTime, 0n);
  assert.equal(p.receiveTime, 0n);
  assert.equal(p.transmitTime, instantToNtp64(T));
  assert.equal(p.refTime, instantToNtp64(REF.refTime));
  // Root dispersion grown over the 10 s since the reference time.
  assert.ok(Math.abs(p.rootDispersion - 0.0011) < 2e-5, `${p.rootDispersion}`);
});

Deno.test("broadcast packet: unsynchronised announces leap 3 and stratum 16", () => {
  const bytes = buildBroadcastPacket({ ...REF, synchronised: false }, 16, null, () => T);
  const d = decodePacket(bytes);
  assert.ok(d.ok);
  assert.equal(d.packet.leap, 3);
  assert.equal(d.packet.stratum, 16);
  assert.equal(d.packet.poll, 4);
});

Deno.test("broadcast packet: with a key it carries a MAC that verifies", () => {
  const bytes = buildBroadcastPacket(REF, 64, KEYS.get(3), () => T);
  assert.ok(bytes.length > 48);
  const auth = checkPacketAuth(bytes, KEYS);
  assert.equal(auth.kind, "ok");
  assert.equal(auth.kind === "ok" ? auth.key.id : 0, 3);
  bytes[45] ^= 1; // a changed transmit time no longer verifies
  assert.equal(checkPacketAuth(bytes, KEYS).kind, "bad");
});

Deno.test("broadcastPoll: nearest log2 of the interval, within -7..17", () => {
  assert.equal(broadcastPoll(1), 0);
  assert.equal(broadcastPoll(2), 1);
  assert.equal(broadcastPoll(60), 6);
  assert.equal(broadcastPoll(1024), 10);
  assert.equal(broadcastPoll(65536), 16);
  assert.equal(broadcastPoll(1e9), 17);
  assert.equal(broadcastPoll(0), -7);
});
