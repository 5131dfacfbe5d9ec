import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import type { SourceParams } from "../../config/model.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import { SeededRandom } from "../../../tests/helpers/discipline_testing.ts";
import { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ReferenceState } from "../types.ts";
import { PeerSource } from "./peer.ts";
import { ntpLater, PeerTimestamps } from "./peer_timestamps.ts";
import type { SourceContext, SourceOutcome } from "./source.ts";

const T0: Instant = 1_800_000_000_000_000_000n;
const SEC = 1_000_000_000n;
const UNSYNC: ReferenceState = {
  synchronised: false,
  leap: 3,
  stratum: 16,
  refId: 0,
  refTime: 0n,
  rootDelay: 0,
  rootDispersion: 0,
  dispersionRate: 0,
  precisionLog2: -20,
};

function ctx(now: Instant): SourceContext {
  return { now, selected: false, reference: () => UNSYNC, isLeapSecondClose: () => false };
}

function peer(params: Partial<SourceParams> = {}): PeerSource {
  return new PeerSource({
    id: 1,
    address: { address: "192.0.2.7", port: 123 },
    name: null,
    params: { ...DEFAULT_SOURCE_PARAMS, minPoll: 4, maxPoll: 4, ...params },
    precision: 1e-8,
    random: new SeededRandom(3),
    stats: new SourceStats({
      minSamples: 6,
      maxSamples: 64,
      asymmetry: null,
      precision: 1e-8,
      maxClockError: 1,
      minDelay: null,
      maxJitter: 1,
    }),
    maxClockError: 1,
  });
}

/** Runs a timeout and reports the send at `now`; returns the packet sent. */
function transmit(p: PeerSource, now: Instant): Uint8Array {
  const out = p.timeout(ctx(now));
  const send = out.find((o) => o.kind === "send");
  assert.ok(send !== undefined && send.kind === "send");
  assert.equal(send.via, "ntp-port");
  p.sent(send.token, true, now, ctx(now));
  return send.bytes;
}

/**
 * The remote peer's packet answering `ours` (or starting, with `ours` null): stratum 2, its
 * clock `ahead` seconds ahead, received by it 10 ms after `sentAt`, sent at `txAt` (its own
 * clock, true time).
 */
function remote(
  ours: Uint8Array | null,
  sentAt: Instant,
  txAt: Instant,
  ahead = 0.5,
): Uint8Array {
  const p = emptyPacket(NtpMode.SymmetricActive);
  p.stratum = 2;
  p.precision = -20;
  p.refId = 0x0a000001;
  const a = BigInt(Math.round(ahead * 1e9));
  if (ours !== null) {
    const d = decodePacket(ours);
    assert.ok(d.ok);
    p.originTime = d.packet.transmitTime;
    p.receiveTime = instantToNtp64(sentAt + 10_000_000n + a);
  }
  p.transmitTime = instantToNtp64(txAt + a);
  return encodePacket(p);
}

function kinds(out: SourceOutcome[]): string[] {
  return out.map((o) => o.kind);
}

Deno.test("peer: sends mode 1 from the NTP port, echoing nothing before the peer spoke", () => {
  const p = peer();
  assert.deepEqual(kinds(p.start(ctx(T0))), ["wake"]);
  const bytes = transmit(p, T0);
  const d = decodePacket(bytes);
  assert.ok(d.ok);
  assert.equal(d.packet.mode, 1);
  assert.equal(d.packet.originTime, 0n);
  assert.equal(d.packet.receiveTime, 0n);
  assert.equal(d.packet.stratum, 16, "unsynchronised: stratum 16, leap 3");
  assert.equal(d.packet.leap, 3);
  assert.ok(bytes.length === 48);
});

Deno.test("peer: the RFC 5905 handshake measures offset and delay both ways", () => {
  const p = peer();
  p.start(ctx(T0));
  // Both send first: the remote's first packet carries no origin (test 3 fails) but its
  // transmit timestamp is kept for the answer.
  transmit(p, T0);
  const theirs1 = remote(null, T0, T0 + SEC);
  assert.deepEqual(p.receive(0, theirs1, T0 + SEC + 10_000_000n, ctx(T0 + SEC)), []);
  assert.equal(p.counters.validRx, 0);
  // Our next packet echoes the remote's transmit timestamp and our receive time.
  const ours2 = transmit(p, T0 + 16n * SEC);
  const d2 = decodePacket(ours2);
  assert.ok(d2.ok && d1Origin(theirs1) === d2.packet.originTime);
  assert.ok(d2.ok && d2.packet.receiveTime === instantToNtp64(T0 + SEC + 10_000_000n));
  // The remote answers ours2 2 s later: valid, offset 0.5 s, delay 20 ms.
  const theirs2 = remote(ours2, T0 + 16n * SEC, T0 + 18n * SEC);
  const rx = T0 + 18n * SEC + 10_000_000n;
  const out = p.receive(0, theirs2, rx, ctx(rx));
  assert.equal(p.counters.validRx, 1);
  assert.ok(kinds(out).includes("reachability"));
  const nd = p.ntpData(rx);
  assert.equal(nd.mode, 1);
  assert.ok(Math.abs(nd.offset - 0.5) < 1e-6, `offset ${nd.offset}`);
  assert.ok(Math.abs(nd.peerDelay - 0.02) < 1e-6, `delay ${nd.peerDelay}`);
  // The remote held our packet 2 s: no MAX_SERVER_INTERVAL test in symmetric mode.
  assert.ok(Math.abs(nd.responseTime - 1.99) < 1e-6);
  assert.equal(nd.tests & 0x3f, 0x3f, "tests 1-7 passed");
  // A second answer to the same packet of ours is not another measurement...
  const again = remote(ours2, T0 + 16n * SEC, T0 + 19n * SEC);
  p.receive(0, again, rx + SEC, ctx(rx + SEC));
  assert.equal(p.counters.validRx, 1);
  // ...but its newer transmit timestamp is what our next packet echoes.
  const ours3 = transmit(p, T0 + 32n * SEC);
  const d3 = decodePacket(ours3);
  assert.ok(d3.ok && d3.packet.originTime === d1Origin(again));
  // An exact duplicate of the last packet is dropped (test 1).
  const dup = remote(ours3, T0 + 32n * SEC, T0 + 33n * SEC);
  p.receive(0, dup, T0 + 33n * SEC, ctx(T0 + 33n * SEC));
  assert.equal(p.counters.validRx, 2);
  p.receive(0, dup, T0 + 34n * SEC, ctx(T0 + 34n * SEC));
  assert.equal(p.counters.validRx, 2);
});

function d1Origin(bytes: Uint8Array): bigint {
  const d = decodePacket(bytes);
  assert.ok(d.ok);
  return d.packet.transmitTime;
}

Deno.test("peer: a packet whose origin is not our newest transmit is bogus (test 2)", () => {
  const p = peer();
  p.start(ctx(T0));
  const ours1 = transmit(p, T0);
  transmit(p, T0 + 16n * SEC);
  // An answer to our first packet arrives after we sent the second one.
  const late = remote(ours1, T0, T0 + 17n * SEC);
  p.receive(0, late, T0 + 17n * SEC, ctx(T0 + 17n * SEC));
  assert.equal(p.counters.validRx, 0);
  assert.equal(p.ntpData(T0).tests & 0b10, 0, "test 2 failed");
});

Deno.test("peer: a key is required both ways when configured", () => {
  const p = peer({ key: 9 });
  p.start(ctx(T0));
  // Key 9 is not in the key file: nothing is sent, an error is logged once.
  const out = p.timeout(ctx(T0));
  assert.ok(!kinds(out).includes("send"));
  assert.ok(out.some((o) => o.kind === "log" && o.level === "error"));
});

Deno.test("peer timestamps: era-wrapping comparison and restart copies", () => {
  assert.ok(ntpLater(5n, 3n));
  assert.ok(!ntpLater(3n, 5n));
  assert.ok(ntpLater(2n, 0xffff_ffff_ffff_fff0n), "across the era boundary");
  const ts = new PeerTimestamps();
  ts.sent(100n, T0);
  assert.equal(
    ts.receive({ receiveField: 1n, transmitField: 50n, valid: false, authentic: true }, T0),
    false,
  );
  assert.equal(ts.initRemoteTx, 50n);
  // An unauthenticated packet never becomes the restart copy.
  ts.receive({ receiveField: 2n, transmitField: 60n, valid: false, authentic: false }, T0);
  assert.equal(ts.initRemoteTx, 50n);
  const echo = ts.nextEcho();
  assert.equal(echo.origin, 50n);
});

Deno.test("peer: 50 000 random and mutated packets never throw and never measure", () => {
  const rnd = new SeededRandom(77);
  const p = peer();
  p.start(ctx(T0));
  let now = T0;
  const ours = transmit(p, now);
  const base = remote(ours, now, now + SEC);
  for (let i = 0; i < 50_000; i++) {
    now += 1_000_000n;
    let bytes: Uint8Array;
    if (i % 3 === 0) {
      bytes = new Uint8Array(Math.floor(rnd.next() * 120));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd.next() * 256);
    } else {
      bytes = base.slice();
      // Flip bits anywhere except the origin timestamp, so none of these answers us.
      for (let f = 0; f < 1 + Math.floor(rnd.next() * 4); f++) {
        let at = Math.floor(rnd.next() * 48);
        if (at >= 24 && at < 32) at = 0;
        bytes[at] ^= 1 << Math.floor(rnd.next() * 8);
      }
      bytes[24] ^= 0x80; // a wrong origin
    }
    const out = p.receive(0, bytes, now, ctx(now));
    assert.ok(!kinds(out).includes("sample"));
    assert.ok(!kinds(out).includes("send"), "a received packet never sends by itself");
    if (i % 5000 === 0) transmit(p, now);
  }
  assert.equal(p.counters.goodRx, 0);
  assert.equal(p.stats.sampleCount, 0);
});

Deno.test("peer: xleave is implemented (interleaved symmetric mode), no warning", () => {
  const out = peer({ xleave: true }).start(ctx(T0));
  assert.deepEqual(kinds(out), ["wake"]);
});
