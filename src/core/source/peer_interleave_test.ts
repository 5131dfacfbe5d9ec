import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import { decodePacket } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import { SeededRandom } from "../../../tests/helpers/discipline_testing.ts";
import { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ReferenceState } from "../types.ts";
import type { PreviousExchange } from "./interleave.ts";
import { PeerSource } from "./peer.ts";
import {
  betterTransmitTime,
  PeerInterleave,
  symmetricInterleavedTimestamps,
} from "./peer_interleave.ts";
import { PeerTimestamps } from "./peer_timestamps.ts";
import type { SourceContext } from "./source.ts";

const T0: Instant = 1_800_000_000_000_000_000n;
const SEC = 1_000_000_000n;
const MS = 1_000_000n;
const US = 1_000n;

function reference(stratum: number, refId: number): ReferenceState {
  return {
    synchronised: true,
    leap: 0,
    stratum,
    refId,
    refTime: T0 - 10n * SEC,
    rootDelay: 0,
    rootDispersion: 0,
    dispersionRate: 0,
    precisionLog2: -25,
  };
}

function ctx(now: Instant, ref: ReferenceState): SourceContext {
  return { now, selected: false, reference: () => ref, isLeapSecondClose: () => false };
}

function peer(xleave: boolean, address: string): PeerSource {
  return new PeerSource({
    id: 1,
    address: { address, port: 123 },
    name: null,
    params: { ...DEFAULT_SOURCE_PARAMS, minPoll: 1, maxPoll: 1, xleave },
    precision: 1e-8,
    random: new SeededRandom(7),
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

/** One side of the simulation: its source, its clock offset and how late packets leave. */
interface Side {
  source: PeerSource;
  ref: ReferenceState;
  /** Its clock minus true time, ns. */
  ahead: bigint;
  /** True departure minus the time the daemon read before sending, ns. */
  txLate: bigint;
}

/**
 * Sends `from`'s packet at true time `t` (its daemon reads its clock then; the packet leaves
 * `txLate` later, reported by the kernel) and delivers it `oneWay` after it left.
 */
function exchange(from: Side, to: Side, t: Instant, oneWay: bigint): Uint8Array {
  const now = t + from.ahead;
  const out = from.source.timeout(ctx(now, from.ref));
  const send = out.find((o) => o.kind === "send");
  assert.ok(send !== undefined && send.kind === "send");
  from.source.sent(send.token, true, now, ctx(now, from.ref));
  const d = decodePacket(send.bytes);
  assert.ok(d.ok);
  const departed = now + from.txLate;
  assert.ok(from.source.transmittedPacket(d.packet.transmitTime, d.packet.receiveTime, departed));
  const rx = t + from.txLate + oneWay + to.ahead;
  to.source.receive(0, send.bytes, rx, ctx(rx, to.ref));
  return send.bytes;
}

/**
 * Two peers in virtual time, B's clock 250 ms ahead, 10 ms each way, A's packets leaving
 * 200 µs and B's 50 µs after their daemons read the clock. Returns both ntpdata reports.
 */
function simulate(xleave: boolean, rounds = 10) {
  const a: Side = {
    source: peer(xleave, "192.0.2.2"),
    ref: reference(3, 0x0a000003),
    ahead: 0n,
    txLate: 200n * US,
  };
  const b: Side = {
    source: peer(xleave, "192.0.2.1"),
    ref: reference(2, 0x0a000002),
    ahead: 250n * MS,
    txLate: 50n * US,
  };
  a.source.start(ctx(T0, a.ref));
  b.source.start(ctx(T0 + b.ahead, b.ref));
  let t = T0;
  for (let i = 0; i < rounds; i++) {
    exchange(a, b, t, 10n * MS);
    exchange(b, a, t + SEC, 10n * MS);
    t += 2n * SEC;
  }
  return { a: a.source.ntpData(t), b: b.source.ntpData(t + b.ahead) };
}

Deno.test("symmetric interleaved: two xleave peers measure exact offset and delay from true departures", () => {
  const { a, b } = simulate(true);
  assert.equal(a.interleaved, true);
  assert.equal(b.interleaved, true);
  // A sees B 250 ms ahead, B sees A 250 ms behind; the delay is the 20 ms of the path.
  assert.ok(Math.abs(a.offset - 0.25) < 1e-7, `A offset ${a.offset}`);
  assert.ok(Math.abs(b.offset + 0.25) < 1e-7, `B offset ${b.offset}`);
  assert.ok(Math.abs(a.peerDelay - 0.02) < 1e-7, `A delay ${a.peerDelay}`);
  assert.ok(Math.abs(b.peerDelay - 0.02) < 1e-7, `B delay ${b.peerDelay}`);
  assert.equal(a.tests, 0x3ff, "all tests passed");
  assert.ok(a.totalGoodRx >= 7, `good samples ${a.totalGoodRx}`);
});

Deno.test("symmetric interleaved: basic mode shows the send-path errors interleaving removes", () => {
  const { a } = simulate(false);
  assert.equal(a.interleaved, false);
  // A's own departures are exact (kernel time), B's 50 µs late departures are not: delay
  // + 50 µs, offset off by 25 µs.
  assert.ok(Math.abs(a.peerDelay - 0.02005) < 1e-7, `A delay ${a.peerDelay}`);
  assert.ok(Math.abs(a.offset - (0.25 - 25e-6)) < 1e-7, `A offset ${a.offset}`);
});

Deno.test("symmetric interleaved: with xleave on one side only the exchange stays basic", () => {
  const a = peer(true, "192.0.2.2");
  const b = peer(false, "192.0.2.1");
  const sa: Side = { source: a, ref: reference(3, 3), ahead: 0n, txLate: 100n * US };
  const sb: Side = { source: b, ref: reference(2, 2), ahead: 0n, txLate: 100n * US };
  a.start(ctx(T0, sa.ref));
  b.start(ctx(T0, sb.ref));
  let t = T0;
  for (let i = 0; i < 6; i++) {
    exchange(sa, sb, t, 5n * MS);
    exchange(sb, sa, t + SEC, 5n * MS);
    t += 2n * SEC;
  }
  // A may send interleaved packets, which B without xleave cannot take (test 2), but B's
  // answers to them restart the exchange: A keeps measuring B in basic mode.
  assert.equal(a.ntpData(t).interleaved, false);
  assert.ok(a.ntpData(t).totalValidRx >= 3, `A valid ${a.ntpData(t).totalValidRx}`);
  // B cannot take A's interleaved packets (as chronyd: both sides need xleave).
  assert.equal(b.ntpData(t).totalValidRx, 0);
});

function previous(over: Partial<PreviousExchange> = {}): PreviousExchange {
  return {
    remoteRx: instantToNtp64(T0 + 10n * MS),
    remoteTx: instantToNtp64(T0 + 500n * MS),
    localRx: T0 + 510n * MS,
    localTx: T0,
    rootDelay: 0.001,
    rootDispersion: 0.002,
    synced: true,
    ...over,
  };
}

function packet(rx: Instant, tx: Instant) {
  return {
    receiveTime: instantToNtp64(rx),
    transmitTime: instantToNtp64(tx),
    rootDelay: 0.003,
    rootDispersion: 0.0005,
  };
}

const POLLS = { remotePoll: 1, prevLocalPoll: 1 };

Deno.test("symmetric interleaved timestamps: a long previous exchange pairs our newest packet", () => {
  // Our newest packet left 1 s after the peer's previous packet arrived: a long gap.
  const localTx = T0 + 1510n * MS;
  const pkt = packet(T0 + 1520n * MS, T0 + 500n * MS + 30n * US);
  const x = symmetricInterleavedTimestamps(pkt, T0 + 2n * SEC, localTx, previous(), POLLS);
  assert.equal(x.t1, localTx);
  assert.equal(x.t2, T0 + 1520n * MS);
  assert.equal(x.t3, T0 + 500n * MS + 30n * US, "the peer's true departure");
  assert.equal(x.t4, T0 + 510n * MS);
  assert.equal(x.rootDelay, 0.003, "the larger root delay of both packets");
  assert.equal(x.rootDispersion, 0.002);
  assert.equal(x.unusable, null);
  assert.equal(x.maxDelay, 1);
});

Deno.test("symmetric interleaved timestamps: a short previous exchange is preferred to a long gap", () => {
  // Our previous packet left 15 ms before the peer's previous packet arrived; our newest
  // one a whole second after: the previous pair gives the much shorter intervals.
  const localTx = T0 + 1510n * MS;
  const pkt = packet(T0 + 1520n * MS, T0 + 500n * MS + 30n * US);
  const prev = previous({ localTx: T0 + 495n * MS });
  const x = symmetricInterleavedTimestamps(pkt, T0 + 2n * SEC, localTx, prev, POLLS);
  assert.equal(x.t1, T0 + 495n * MS);
  assert.equal(x.t2, T0 + 10n * MS, "the peer's receive time of our previous packet");
  assert.equal(x.t3, T0 + 500n * MS + 30n * US);
  assert.equal(x.t4, T0 + 510n * MS);
  assert.equal(x.rootDelay, 0.001, "the previous packet's root delay");
  // Without a reusable previous packet of ours the newest one is used.
  const y = symmetricInterleavedTimestamps(
    pkt,
    T0 + 2n * SEC,
    localTx,
    previous({ localTx: null }),
    POLLS,
  );
  assert.equal(y.t1, localTx);
});

Deno.test("symmetric interleaved timestamps: test A's checks for a missed packet", () => {
  const rx = T0 + 2n * SEC;
  const ok = packet(T0 + 1520n * MS, T0 + 500n * MS);
  assert.equal(
    symmetricInterleavedTimestamps(ok, rx, T0 + 1510n * MS, previous({ synced: false }), POLLS)
      .unusable,
    "unsynchronised",
  );
  // Receive not after transmit: the transmit time is not of the previous packet.
  const late = packet(T0 + 1520n * MS, T0 + 1530n * MS);
  assert.equal(
    symmetricInterleavedTimestamps(late, rx, T0 + 1510n * MS, previous(), POLLS).unusable,
    "missed-response",
  );
  // The transmit times 3.5 s apart with 2 s polling: a packet was lost in between.
  const gap = packet(T0 + 4520n * MS, T0 + 4000n * MS);
  assert.equal(
    symmetricInterleavedTimestamps(gap, rx, T0 + 4510n * MS, previous(), POLLS).unusable,
    "missed-response",
  );
  // ... which is allowed when the peer polls more slowly than we did.
  const slow = { remotePoll: 3, prevLocalPoll: 1 };
  assert.equal(
    symmetricInterleavedTimestamps(gap, rx, T0 + 4510n * MS, previous(), slow).unusable,
    null,
  );
});

Deno.test("peer interleave state: interleaved only after exactly one answer, never for initial", () => {
  const ts = new PeerTimestamps();
  ts.remoteRx = 5n;
  ts.localTx = T0;
  const xl = new PeerInterleave(true);
  const basic = { origin: 1n, receive: T0, initial: false };
  assert.equal(xl.nextFields(basic, ts, 0), null, "no answer counted yet");
  xl.prevTxCount = 1;
  assert.deepEqual(xl.nextFields(basic, ts, 0), { origin: 5n, transmit: T0 });
  assert.equal(xl.nextFields(basic, ts, 1), null, "our second packet to one of theirs");
  xl.prevTxCount = 2;
  assert.equal(xl.nextFields(basic, ts, 0), null, "two answers to their previous packet");
  xl.prevTxCount = 1;
  xl.validTimestamps = true;
  assert.equal(xl.nextFields({ ...basic, initial: true }, ts, 0), null);
  assert.equal(xl.validTimestamps, false, "an initial answer restarts the exchange");
  assert.equal(new PeerInterleave(false).nextFields(basic, ts, 0), null, "no xleave");
  assert.equal(new PeerInterleave(false).request(), null);
});

Deno.test("peer interleave: a kernel transmit time is taken for our newest packet only, 0..1 s late", () => {
  const ts = { localNtpTx: 77n, localTx: T0 };
  assert.equal(betterTransmitTime(ts, 9n, 77n, 9n, T0 + 30n * US), T0 + 30n * US);
  assert.equal(betterTransmitTime(ts, 9n, 78n, 9n, T0 + 30n * US), null, "another packet");
  assert.equal(betterTransmitTime(ts, 9n, 77n, 8n, T0 + 30n * US), null, "another receive field");
  assert.equal(betterTransmitTime(ts, 9n, 77n, 9n, T0 - 1n), null, "before the daemon's time");
  assert.equal(betterTransmitTime(ts, 9n, 77n, 9n, T0 + 2n * SEC), null, "over 1 s late");
  assert.equal(betterTransmitTime({ localNtpTx: 77n, localTx: null }, 9n, 77n, 9n, T0), null);
});

Deno.test("peer packet: an interleaved packet carries our previous departure and the peer's receive", () => {
  const a: Side = {
    source: peer(true, "192.0.2.2"),
    ref: reference(3, 3),
    ahead: 0n,
    txLate: 200n * US,
  };
  const b: Side = { source: peer(true, "192.0.2.1"), ref: reference(2, 2), ahead: 0n, txLate: 0n };
  a.source.start(ctx(T0, a.ref));
  b.source.start(ctx(T0, b.ref));
  exchange(a, b, T0, 10n * MS);
  exchange(b, a, T0 + SEC, 10n * MS);
  exchange(a, b, T0 + 2n * SEC, 10n * MS);
  exchange(b, a, T0 + 3n * SEC, 10n * MS);
  const out = a.source.timeout(ctx(T0 + 4n * SEC, a.ref));
  const send = out.find((o) => o.kind === "send");
  assert.ok(send !== undefined && send.kind === "send");
  const d = decodePacket(send.bytes);
  assert.ok(d.ok);
  // Transmit: when A's previous packet (sent at T0 + 2 s) really left.
  assert.equal(d.packet.transmitTime, instantToNtp64(T0 + 2n * SEC + 200n * US));
  // Origin: B's receive timestamp of that packet.
  assert.equal(d.packet.originTime, instantToNtp64(T0 + 2n * SEC + 200n * US + 10n * MS));
});

Deno.test("symmetric interleaved fuzz: forged, mutated and replayed packets and transmit reports", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new SeededRandom(seed);
    const byte = () => Math.floor(rng.next() * 256);
    const a: Side = {
      source: peer(true, "192.0.2.2"),
      ref: reference(3, 3),
      ahead: 0n,
      txLate: 80n * US,
    };
    const b: Side = {
      source: peer(true, "192.0.2.1"),
      ref: reference(2, 2),
      ahead: 250n * MS,
      txLate: 30n * US,
    };
    a.source.start(ctx(T0, a.ref));
    b.source.start(ctx(T0 + b.ahead, b.ref));
    let t = T0;
    for (let i = 0; i < 12; i++) {
      exchange(a, b, t, 10n * MS);
      const genuine = exchange(b, a, t + SEC, 10n * MS);
      // Between the genuine packets: noise to A, never thrown out of it.
      for (let k = 0; k < 4; k++) {
        const at = t + SEC + 20n * MS + BigInt(k) * MS;
        let bytes: Uint8Array;
        const kind = Math.floor(rng.next() * 3);
        if (kind === 0) bytes = Uint8Array.from({ length: 40 + Math.floor(rng.next() * 40) }, byte);
        else {
          bytes = genuine.slice();
          // kind 1: a replay; kind 2: some header or timestamp octets changed, mode 1 or 2 kept.
          if (kind === 2) {
            for (let n = 0; n < 3; n++) bytes[1 + Math.floor(rng.next() * 47)] = byte();
            bytes[0] = (bytes[0] & 0xf8) | (rng.next() < 0.5 ? 1 : 2);
          }
        }
        a.source.receive(0, bytes, at, ctx(at, a.ref));
        const junk = BigInt(byte()) << 56n | BigInt(byte());
        a.source.transmittedPacket(junk, junk, at);
      }
      t += 2n * SEC;
    }
    // Clean rounds: the exchange recovers and measures exactly again.
    for (let i = 0; i < 6; i++) {
      exchange(a, b, t, 10n * MS);
      exchange(b, a, t + SEC, 10n * MS);
      t += 2n * SEC;
    }
    const nd = a.source.ntpData(t);
    assert.equal(nd.interleaved, true, `seed ${seed}`);
    assert.ok(Math.abs(nd.offset - 0.25) < 1e-7, `seed ${seed}: offset ${nd.offset}`);
    assert.ok(Math.abs(nd.peerDelay - 0.02) < 1e-7, `seed ${seed}: delay ${nd.peerDelay}`);
  }
});
