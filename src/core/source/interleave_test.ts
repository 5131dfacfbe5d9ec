/**
 * The interleaved client (RequestLog + measureReply) against the real responder
 * (NtpResponder + ClientLog's transmit-timestamp store) in virtual time, with a server whose
 * transmit timestamp written into the reply is `late` before the datagram really leaves
 * (the kernel's transmit timestamp). Basic replies then measure an offset `late / 2` short;
 * interleaved ones measure the true offset.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../../../tests/helpers/random.ts";
import type { RandomPort } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import { decodePacket } from "../../ntp/packet.ts";
import { AccessTable } from "../access.ts";
import { ClientLog } from "../client_log.ts";
import { NtpResponder } from "../server.ts";
import type { ReferenceState } from "../types.ts";
import { type ReplyContext, RequestLog } from "./ntp_requests.ts";
import type { ReplyVerdict } from "./measure.ts";
import { interleavedRequestFields, interleavedTimestamps } from "./interleave.ts";
import { NtpSource } from "./ntp_client.ts";
import { SourceStats } from "../sourcestats.ts";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";

const T0 = 1_764_000_000_000_000_000n;
const CTX: ReplyContext = {
  localPrecision: 1e-9,
  offsetCorrection: 0,
  skew: 0,
  maxDelay: 3,
  maxDelayRatio: 0,
  maxDelayDevRatio: 10,
  maxClockError: 1,
  delayTestData: () => null,
  reference: null,
};
const REFERENCE: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 1,
  refId: 0x47505300,
  refTime: T0,
  rootDelay: 0,
  rootDispersion: 0,
  dispersionRate: 0,
  precisionLog2: -30,
};

function random(seed: number): RandomPort {
  const r = seededRandom(seed);
  return {
    next: r,
    fill(b: Uint8Array) {
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
    },
  };
}

interface Bench {
  client: RequestLog;
  responder: NtpResponder;
  clientLog: ClientLog;
  /** One exchange at client time `t`; returns the verdict. */
  exchange(t: Instant, opts?: { interleaved?: boolean; lose?: boolean }): ReplyVerdict | null;
}

/**
 * A client whose clock is `offset` s behind the server's, one-way delay `delay` s, server
 * processing `proc` s, reply leaving `late` s after the transmit time written into it.
 */
function bench(offset: number, delay: number, proc: number, late: number, kernelTx = true): Bench {
  const ns = (s: number) => BigInt(Math.round(s * 1e9));
  const client = new RequestLog(random(1), null);
  const clientLog = new ClientLog({ random: seededRandom(2) });
  const responder = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog,
  });
  return {
    client,
    responder,
    clientLog,
    exchange(t, opts = {}) {
      const { token, bytes } = client.create(
        { version: 4, poll: 0, interleaved: opts.interleaved ?? true },
        false,
        false,
        t,
      )!;
      client.sent(token, t);
      const rx = t + ns(delay + offset);
      const tx = rx + ns(proc);
      const reply = responder.respond(
        bytes,
        { address: "192.0.2.1", port: 123 },
        rx,
        REFERENCE,
        () => tx,
      )
        ?.slice();
      assert.ok(reply !== undefined && reply !== null);
      const key = responder.savedRxKey;
      if (key !== null && kernelTx) clientLog.txTimestamps?.updateTx(key, tx + ns(late));
      if (opts.lose) return null;
      const t4 = tx + ns(late) - ns(offset) + ns(delay);
      const req = client.find(token);
      assert.ok(req !== undefined);
      return client.measure(req, reply, t4, CTX);
    },
  };
}

function offsetOf(v: ReplyVerdict | null): number {
  assert.ok(v !== null && v.kind === "valid", JSON.stringify(v?.kind));
  return v.measurement.offset;
}

Deno.test("xleave client: basic, basic (saved), after-basic (no sample), then interleaved and exact", () => {
  const b = bench(0.003, 0.0002, 0.00001, 0.002);
  const t = (s: number) => T0 + BigInt(s * 1e9);
  const v1 = b.exchange(t(0));
  assert.ok(v1?.kind === "valid" && !v1.measurement.interleaved && v1.rejection === null);
  assert.ok(Math.abs(offsetOf(v1) - (0.003 - 0.001)) < 1e-8, "basic: offset short by late/2");
  const v2 = b.exchange(t(1));
  assert.ok(v2?.kind === "valid" && !v2.measurement.interleaved, "the server saved it: basic");
  const v3 = b.exchange(t(2));
  assert.ok(v3?.kind === "valid" && v3.measurement.interleaved);
  assert.equal(v3.rejection, "interleaved-unusable", "exchange 2 was already a basic sample");
  for (let i = 3; i < 8; i++) {
    const v = b.exchange(t(i));
    assert.ok(v?.kind === "valid" && v.measurement.interleaved && v.rejection === null);
    assert.ok(Math.abs(v.measurement.offset - 0.003) < 1e-8, `${v.measurement.offset}`);
    assert.ok(Math.abs(v.measurement.delay - 0.0004) < 1e-8, `${v.measurement.delay}`);
    assert.ok(Math.abs(v.measurement.responseTime - 0.00201) < 1e-8);
    // The sample is of the previous exchange: its time is that exchange's midpoint.
    const mid = t(i - 1) + BigInt(Math.round((0.0004 + 0.00201) / 2 * 1e9));
    assert.ok(Math.abs(Number(v.measurement.sample.time - mid)) < 2, "sample time");
  }
  assert.ok(b.clientLog.serverStats().ntpInterleavedHits >= 5);
});

Deno.test("xleave client: a server without interleaved mode gives basic samples", () => {
  // Without kernel timestamps the store still answers; a server that ignores the origin
  // (noclientlog: no store) answers basic replies, which the client takes as such.
  const client = new RequestLog(random(3), null);
  const responder = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog: null,
  });
  for (let i = 0; i < 5; i++) {
    const t = T0 + BigInt(i) * 1_000_000_000n;
    const { token, bytes } = client.create(
      { version: 4, poll: 0, interleaved: true },
      false,
      false,
      t,
    )!;
    client.sent(token, t);
    const reply = responder.respond(
      bytes,
      { address: "192.0.2.1", port: 1 },
      t + 100_000n,
      REFERENCE,
      () => t + 110_000n,
    )!
      .slice();
    const v = client.measure(client.find(token)!, reply, t + 210_000n, CTX);
    assert.ok(v.kind === "valid" && !v.measurement.interleaved && v.rejection === null);
    assert.ok(Math.abs(v.measurement.offset) < 1e-8);
  }
});

Deno.test("xleave client: requests after a valid reply carry origin = its receive timestamp", () => {
  const b = bench(0, 0.0001, 0.00001, 0);
  const t = T0;
  const { bytes: first } = b.client.create(
    { version: 4, poll: 0, interleaved: true },
    false,
    false,
    t,
  )!;
  const p1 = decodePacket(first);
  assert.ok(
    p1.ok && p1.packet.originTime === 0n && p1.packet.receiveTime === 0n,
    "no reply yet: basic",
  );
  b.client.clear();
  const v = b.exchange(t);
  assert.ok(v?.kind === "valid");
  const { bytes } = b.client.create(
    { version: 4, poll: 0, interleaved: true },
    false,
    false,
    t + 1n,
  )!;
  const p2 = decodePacket(bytes);
  assert.ok(p2.ok);
  assert.equal(p2.packet.originTime, v.packet.receiveTime);
  assert.equal(p2.packet.originTime & 1n, 1n, "the server's flag bit");
  assert.notEqual(p2.packet.receiveTime, p2.packet.transmitTime);
  const { bytes: basic } = b.client.create(
    { version: 4, poll: 0, interleaved: false },
    false,
    false,
    t + 2n,
  )!;
  const p3 = decodePacket(basic);
  assert.ok(p3.ok && p3.packet.originTime === 0n && p3.packet.receiveTime === 0n);
});

Deno.test("xleave client: after a lost reply the server answers basic, then interleaving resumes", () => {
  const b = bench(0.001, 0.0002, 0.00001, 0.0005);
  const t = (s: number) => T0 + BigInt(s * 1e9);
  for (let i = 0; i < 4; i++) b.exchange(t(i));
  // The reply to request 4 is lost after the server used reply 3's entry: request 5 names
  // reply 3 again, whose transmit time is never handed out twice, so reply 5 is basic.
  assert.equal(b.exchange(t(4), { lose: true }), null);
  const v5 = b.exchange(t(5));
  assert.ok(v5?.kind === "valid" && !v5.measurement.interleaved && v5.rejection === null);
  assert.ok(Math.abs(v5.measurement.offset - (0.001 - 0.00025)) < 1e-8, "basic: late/2 short");
  const v6 = b.exchange(t(6));
  assert.ok(v6?.kind === "valid" && v6.measurement.interleaved);
  assert.equal(v6.rejection, "interleaved-unusable");
  const v7 = b.exchange(t(7));
  assert.ok(v7?.kind === "valid" && v7.measurement.interleaved && v7.rejection === null);
  assert.ok(Math.abs(v7.measurement.offset - 0.001) < 1e-8);
});

Deno.test("xleave: interleavedTimestamps flags a stale origin and pairs fast polls with this request", () => {
  const prev = {
    remoteRx: 0x1111n << 32n | 1n,
    remoteTx: 0n,
    localRx: T0 + 10_000_000n,
    localTx: T0,
    rootDelay: 0.001,
    rootDispersion: 0.002,
    synced: true,
  };
  const fields = interleavedRequestFields(prev, new Uint8Array(8), 0n);
  assert.notEqual(fields.receiveCookie, 0n);
  const pkt = {
    receiveTime: 0x2222n << 32n,
    transmitTime: 0x1111n << 32n,
    rootDelay: 0.003,
    rootDispersion: 0,
  };
  // The request went out 5 ms after the previous reply, the previous exchange took 10 ms:
  // 0.1 * 5 ms < 10 ms, so this request is paired with the previous reply.
  const x = interleavedTimestamps(pkt, T0 + 20_000_000n, T0 + 15_000_000n, fields, prev);
  assert.equal(x.t1, T0 + 15_000_000n);
  assert.equal(x.rootDelay, 0.003);
  assert.equal(x.unusable, null);
  const stale = interleavedTimestamps(pkt, T0, T0, { ...fields, origin: 5n }, prev);
  assert.equal(stale.unusable, "stale");
  assert.equal(
    interleavedTimestamps(pkt, T0, T0, fields, { ...prev, synced: false }).unusable,
    "unsynchronised",
  );
});

Deno.test("xleave fuzz: random replies to interleaved requests never throw and stay typed", () => {
  const rnd = seededRandom(77);
  const b = bench(0.0, 0.0001, 0.00001, 0.0001);
  for (let i = 0; i < 3; i++) b.exchange(T0 + BigInt(i) * 1_000_000_000n);
  for (let i = 0; i < 5000; i++) {
    const t = T0 + BigInt(10 + i) * 1_000_000_000n;
    const { token, bytes } = b.client.create(
      { version: 4, poll: 0, interleaved: true },
      false,
      false,
      t,
    )!;
    b.client.sent(token, t);
    const reply = Uint8Array.from({ length: 48 + (i % 3) * 4 }, () => Math.floor(rnd() * 256));
    if (i % 2 === 0) reply.set(bytes.subarray(32, 40), 24); // echo the receive cookie
    reply[0] = (reply[0] & 0xc0) | (4 << 3) | 4;
    const v = b.client.measure(b.client.find(token)!, reply, t + 1_000_000n, CTX);
    assert.ok(["ignored", "invalid", "kod", "valid"].includes(v.kind));
    if (v.kind === "valid") assert.ok(Number.isFinite(v.measurement.offset));
  }
});

Deno.test("xleave NtpSource: interleaved requests, ntpdata Interleaved, basic after 4 unanswered", () => {
  const src = new NtpSource({
    id: 1,
    type: "server",
    address: { address: "192.0.2.1", port: 123 },
    name: null,
    params: { ...DEFAULT_SOURCE_PARAMS, xleave: true, minPoll: 0, maxPoll: 0 },
    precision: 1e-9,
    random: random(11),
    stats: new SourceStats({
      minSamples: 6,
      maxSamples: 64,
      asymmetry: null,
      precision: 1e-9,
      maxClockError: 1,
      minDelay: null,
      maxJitter: 1,
    }),
    maxClockError: 1,
  });
  const clientLog = new ClientLog({ random: seededRandom(2) });
  const server = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog,
  });
  let now = T0;
  const ctx = () => ({
    now,
    selected: false,
    reference: () => REFERENCE,
    isLeapSecondClose: () => false,
  });
  src.start(ctx());
  const poll = (answer: boolean) => {
    now += 1_000_000_000n;
    const send = src.timeout(ctx()).find((o) => o.kind === "send");
    assert.ok(send !== undefined && send.kind === "send");
    src.sent(send.token, true, now, ctx());
    const d = decodePacket(send.bytes);
    assert.ok(d.ok);
    if (answer) {
      const rx = now + 100_000n;
      const out = server.respond(
        send.bytes,
        { address: "192.0.2.9", port: 1 },
        rx,
        REFERENCE,
        () => rx + 10_000n,
      )!
        .slice();
      if (server.savedRxKey !== null) {
        clientLog.txTimestamps!.updateTx(server.savedRxKey, rx + 30_000n);
      }
      src.receive(send.token, out, rx + 130_000n, ctx());
    }
    return d.packet;
  };
  assert.equal(poll(true).originTime, 0n, "first request: basic");
  for (let i = 0; i < 4; i++) assert.notEqual(poll(true).originTime, 0n);
  assert.equal(src.ntpData(now).interleaved, true);
  assert.ok(Math.abs(src.ntpData(now).offset) < 1e-8, `${src.ntpData(now).offset}`);
  // Four requests go unanswered; the fifth is basic again (chrony MAX_CLIENT_INTERLEAVED_TX).
  for (let i = 0; i < 4; i++) assert.notEqual(poll(false).originTime, 0n);
  assert.equal(poll(false).originTime, 0n);
});
