import assert from "node:assert/strict";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { manycastPlan, ManycastSolicitation } from "./manycast.ts";

const T = 1_800_000_000_000_000_000n;

function solicitation(): ManycastSolicitation {
  return new ManycastSolicitation(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), T, {
    key: null,
    keys: null,
    precision: 1e-7,
    poll: 6,
  });
}

/** A server's answer to the solicitation, `rootDispersion` s from its reference. */
function answer(s: ManycastSolicitation, rootDispersion: number, stratum = 2): Uint8Array {
  const req = decodePacket(s.request.bytes);
  assert.ok(req.ok);
  const t = instantToNtp64(T + 500_000n);
  return encodePacket({
    ...req.packet,
    mode: 4,
    leap: 0,
    stratum,
    rootDispersion,
    refId: 0x47505300,
    refTime: t,
    originTime: req.packet.transmitTime,
    receiveTime: t,
    transmitTime: t,
  });
}

Deno.test("manycast: the best answers not in use, up to the room left", () => {
  const s = solicitation();
  s.answer(answer(s, 0.05), { address: "192.0.2.1", port: 123 }, T + 1_000_000n);
  s.answer(answer(s, 0.01), { address: "192.0.2.2", port: 123 }, T + 1_000_000n);
  s.answer(answer(s, 0.03), { address: "192.0.2.3", port: 123 }, T + 1_000_000n);
  s.answer(answer(s, 0.0, 16), { address: "192.0.2.4", port: 123 }, T + 1_000_000n);
  assert.equal(s.rejected, 1); // unsynchronised
  const chosen = s.choose(new Set(["192.0.2.2"]), 2).map((r) => r.address.address);
  assert.deepEqual(chosen, ["192.0.2.3", "192.0.2.1"]);
  assert.deepEqual(s.choose(new Set(), 0), []);
});

Deno.test("manycast fuzz: strangers' datagrams never throw and never get chosen", () => {
  const rnd = seededRandom(5);
  const s = solicitation();
  for (let i = 0; i < 10_000; i++) {
    const bytes = new Uint8Array(Math.floor(rnd() * 120));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
    if (bytes.length >= 48 && rnd() < 0.5) bytes[0] = (4 << 3) | 4; // looks like a reply
    s.answer(bytes, { address: `198.51.100.${i % 250}`, port: 123 }, T + 1_000_000n);
  }
  // Without the solicitation's cookie as origin, nothing passes test 2.
  assert.deepEqual(s.choose(new Set(), 16), []);
  assert.equal(s.rejected, 10_000);
});

Deno.test("manycastPlan: drop silent members, solicit for the rest of the bound", () => {
  const plan = manycastPlan([
    { id: 1, reachability: 0xff, reachabilitySize: 8 },
    { id: 2, reachability: 0, reachabilitySize: 8 },
    { id: 3, reachability: 0, reachabilitySize: 3 }, // still starting
  ], 3);
  assert.deepEqual(plan.drop, [2]);
  assert.equal(plan.wanted, 1);
  assert.deepEqual(manycastPlan([], 2), { drop: [], wanted: 2 });
  assert.equal(
    manycastPlan([
      { id: 1, reachability: 1, reachabilitySize: 1 },
      { id: 2, reachability: 1, reachabilitySize: 1 },
    ], 2).wanted,
    0,
  );
});
