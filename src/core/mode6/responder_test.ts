import assert from "node:assert/strict";
import {
  CONTROL_HEADER_LENGTH,
  decodeControlFragment,
  encodeControlRequest,
} from "../../ntp/control.ts";
import { randomBytes, seededRandom } from "../../../tests/helpers/random.ts";
import { AccessTable } from "../access.ts";
import type { NtpDataReport, SourceReport, TrackingReport } from "../reports.ts";
import { Mode6Budget } from "./budget.ts";
import { MAX_ANSWER_OCTETS, MAX_FRAGMENTS, Mode6Responder } from "./responder.ts";
import type { Mode6Peer, Mode6Snapshot } from "./variables.ts";

const S = 1_000_000_000n;
const NOW = 1_764_000_000n * S;
const LOCAL = { address: "127.0.0.1" };
const enc = new TextEncoder();
const dec = new TextDecoder();

const tracking: TrackingReport = {
  refId: 0xc0000201,
  refAddress: "192.0.2.1",
  stratum: 3,
  leapStatus: 0,
  refTime: NOW - 10n * S,
  systemTimeOffset: 0,
  lastOffset: -0.000123456,
  rmsOffset: 0.00005,
  freqPpm: -12.5,
  residualFreqPpm: 0,
  skewPpm: 0.25,
  rootDelay: 0.01,
  rootDispersion: 0.002,
  lastUpdateInterval: 64,
  synchronised: true,
};

function peer(id: number, state: SourceReport["state"] = "selectable"): Mode6Peer {
  const address = `192.0.2.${id}`;
  const ntp: NtpDataReport = {
    remoteAddress: address,
    remotePort: 123,
    localAddress: "192.0.2.200",
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    poll: 6,
    precision: -20,
    rootDelay: 0.004,
    rootDispersion: 0.001,
    refId: 0x0a000001,
    refTime: NOW - 30n * S,
    offset: 0.0001,
    peerDelay: 0.000512,
    peerDispersion: 0.00002,
    responseTime: 0,
    jitterAsymmetry: 0,
    tests: 0x3ff,
    interleaved: false,
    authenticated: false,
    totalTx: 10,
    totalRx: 10,
    totalValidRx: 10,
    totalGoodRx: 10,
  };
  return {
    associationId: id,
    source: {
      id,
      address,
      name: id === 1 ? "time.example.org" : null,
      poll: 6,
      stratum: 2,
      state,
      mode: "client",
      reachability: 0o377,
      sinceSample: 12.5,
      origLatestOffset: 0.0001,
      latestOffset: 0.0001,
      latestError: 0.001,
    },
    ntp,
    stdDev: 0.00003,
  };
}

function snapshot(peers: Mode6Peer[] = [peer(1, "selected"), peer(2)]): Mode6Snapshot {
  return {
    now: NOW,
    reference: {
      synchronised: true,
      leap: 0,
      stratum: 3,
      refId: 0xc0000201,
      refTime: NOW - 10n * S,
      rootDelay: 0.01,
      rootDispersion: 0.002,
      dispersionRate: 0,
      precisionLog2: -24,
    },
    tracking,
    peers,
    version: "tempus test",
    system: "linux",
    processor: "x86_64",
  };
}

function responder(budget?: Mode6Budget): Mode6Responder {
  const { table } = AccessTable.fromRules([{ allow: true, subnet: "127.0.0.0/8", all: false }]);
  return new Mode6Responder({ access: table, budget });
}

/** Sends a request, reassembles the fragments; returns the last header and the data. */
function ask(
  r: Mode6Responder,
  req: Parameters<typeof encodeControlRequest>[0],
  snap = snapshot(),
  from = LOCAL,
) {
  const out = r.respond(encodeControlRequest(req), from, NOW, () => snap);
  const frags = out.map((b) => {
    const f = decodeControlFragment(b);
    assert.ok(f !== null);
    return f;
  });
  let text = "";
  const bytes: number[] = [];
  for (const f of frags) {
    bytes.push(...f.data);
    text += dec.decode(f.data);
  }
  return { frags, text, bytes, last: frags.at(-1) };
}

Deno.test("mode 6: READSTAT 0 lists (assoc, status) pairs with the system status", () => {
  const { last, bytes } = ask(responder(), { opcode: 1, sequence: 5 });
  assert.ok(last);
  assert.equal(last.sequence, 5);
  assert.equal(last.error, false);
  assert.equal(last.status, 0x0600, "leap 0, sync_ntp, no events");
  assert.deepEqual(bytes, [0, 1, 0x96, 0, 0, 2, 0x93, 0]);
});

Deno.test("mode 6: READVAR 0 sends the system variables ntpq rv prints", () => {
  const { text, last } = ask(responder(), { opcode: 2, sequence: 1 });
  assert.equal(last?.status, 0x0600);
  for (
    const want of [
      "leap=0",
      "stratum=3",
      "precision=-24",
      "rootdelay=10.000",
      "rootdisp=2.000",
      "refid=192.0.2.1",
      "tc=6",
      "peer=1",
      "offset=-0.123456",
      "frequency=-12.500",
      "sys_jitter=0.030000",
      "clk_jitter=0.050000",
      'version="tempus test"',
      "clk_wander=0.250000",
    ]
  ) assert.ok(text.includes(want), `${want} in ${JSON.stringify(text)}`);
  assert.match(text, /reftime=0x[0-9a-f]{8}\.[0-9a-f]{8}/);
  assert.match(text, /clock=0x[0-9a-f]{8}\.[0-9a-f]{8}/);
  assert.ok(text.endsWith("\r\n"));
  for (const line of text.split("\r\n")) assert.ok(line.length <= 80, line);
});

Deno.test("mode 6: READVAR with names answers just those; an unknown one is UNKNOWNVAR", () => {
  const r = responder();
  const { text } = ask(r, { opcode: 2, sequence: 2, data: enc.encode("stratum,leap") });
  assert.equal(text, "stratum=3, leap=0\r\n");
  const bad = ask(r, { opcode: 2, sequence: 3, data: enc.encode("stratum,nonesuch") });
  assert.equal(bad.last?.error, true);
  assert.equal(bad.last?.status, 5 << 8);
});

Deno.test("mode 6: READVAR of an association sends the peer variables ntpq -p reads", () => {
  const { text, last } = ask(responder(), { opcode: 2, sequence: 1, associationId: 1 });
  assert.equal(last?.status, 0x9600, "configured, reachable, sys.peer");
  assert.equal(last?.associationId, 1);
  for (
    const want of [
      "srcadr=192.0.2.1",
      "srcport=123",
      "dstadr=192.0.2.200",
      "hmode=3",
      "stratum=2",
      "ppoll=6",
      "hpoll=6",
      "refid=10.0.0.1",
      "reach=0xff",
      "delay=0.512000",
      "offset=0.100000",
      "jitter=0.030000",
      "flash=0x0",
      'srchost="time.example.org"',
    ]
  ) assert.ok(text.includes(want), `${want} in ${JSON.stringify(text)}`);
  // READSTAT of an association answers the same variables.
  const rs = ask(responder(), { opcode: 1, sequence: 1, associationId: 1 });
  assert.equal(rs.text, text);
});

Deno.test("mode 6: unknown association, writes, configure and other opcodes are errors", () => {
  const r = responder();
  const cases: [number, number, number][] = [
    [2, 99, 4], // BADASSOC
    [1, 99, 4],
    [3, 0, 1], // WRITEVAR: PERMISSION
    [5, 0, 1],
    [8, 0, 1], // CONFIGURE
    [10, 0, 3], // READ_MRU: BADOP
    [12, 0, 3], // REQ_NONCE
    [4, 1, 3], // READCLOCK
    [31, 0, 3],
  ];
  for (const [opcode, associationId, code] of cases) {
    const { frags, last } = ask(r, { opcode, sequence: 7, associationId });
    assert.equal(frags.length, 1);
    assert.equal(last?.error, true, `op ${opcode}`);
    assert.equal(last?.status, code << 8, `op ${opcode}`);
    assert.equal(last?.data.length, 0);
  }
  assert.equal(r.stats.errors, cases.length);
});

Deno.test("mode 6: non-loopback and denied addresses get nothing; snapshot not even read", () => {
  const r = responder();
  let reads = 0;
  for (const address of ["192.0.2.9", "::ffff:10.0.0.1", "2001:db8::1", "not-an-ip"]) {
    const out = r.respond(
      encodeControlRequest({ opcode: 2, sequence: 1 }),
      { address },
      NOW,
      () => {
        reads++;
        return snapshot();
      },
    );
    assert.deepEqual(out, []);
  }
  assert.equal(reads, 0);
  assert.equal(r.stats.denied, 4);
});

Deno.test("mode 6: READSTAT of 300 associations fragments within the bound", () => {
  const peers = Array.from({ length: 300 }, (_, i) => peer(i + 1));
  const { frags, bytes } = ask(responder(), { opcode: 1, sequence: 1 }, snapshot(peers));
  assert.equal(bytes.length, 1200);
  assert.equal(frags.length, 3);
  assert.deepEqual(frags.map((f) => [f.offset, f.more]), [[0, true], [468, true], [936, false]]);
  // 1000 associations: the list stops at the bound (468 of them).
  const many = Array.from({ length: 1000 }, (_, i) => peer(i + 1));
  const big = ask(responder(), { opcode: 1, sequence: 1 }, snapshot(many));
  assert.equal(big.frags.length, MAX_FRAGMENTS);
  assert.equal(big.bytes.length, MAX_FRAGMENTS * 468);
});

Deno.test("mode 6: the byte budget stops answers to a client past its burst", () => {
  const budget = new Mode6Budget({
    clientBurst: 2000,
    clientRate: 100,
    globalBurst: 100_000,
    globalRate: 100_000,
    maxClients: 4,
  });
  const r = responder(budget);
  const req = encodeControlRequest({ opcode: 2, sequence: 1 });
  let sent = 0;
  let answers = 0;
  for (let i = 0; i < 20; i++) {
    const out = r.respond(req, LOCAL, NOW, () => snapshot());
    if (out.length > 0) answers++;
    for (const b of out) sent += b.length;
  }
  assert.ok(sent <= 2000, `sent ${sent}`);
  assert.ok(answers >= 1 && answers < 20);
  assert.equal(r.stats.rateLimited, 20 - answers);
  // 10 s later the bucket has refilled 1000 octets: one more answer.
  assert.ok(r.respond(req, LOCAL, NOW + 10n * S, () => snapshot()).length > 0);
});

Deno.test("fuzz: mode 6 responder: no throw, no answer over the bound, none to strangers", () => {
  const rnd = seededRandom(0x6e747071);
  const r = responder(
    new Mode6Budget({
      clientBurst: 1e12,
      clientRate: 1e12,
      globalBurst: 1e12,
      globalRate: 1e12,
      maxClients: 8,
    }),
  );
  const peers = Array.from(
    { length: 40 },
    (_, i) => peer(i + 1, i === 0 ? "selected" : "unselected"),
  );
  const snap = snapshot(peers);
  const names = ["leap", "stratum", "srcadr", "offset", "bogus", "", "=", ",", "clock", "flash"];
  const scratch = new Uint8Array(600);
  let answered = 0;
  for (let i = 0; i < 30_000; i++) {
    let bytes: Uint8Array;
    if (rnd() < 0.5) {
      const list = Array.from(
        { length: Math.floor(rnd() * 6) },
        () => names[Math.floor(rnd() * names.length)],
      ).join(",");
      bytes = encodeControlRequest({
        version: 1 + Math.floor(rnd() * 4),
        opcode: Math.floor(rnd() * 32),
        sequence: Math.floor(rnd() * 65536),
        associationId: rnd() < 0.5 ? 0 : Math.floor(rnd() * 50),
        data: enc.encode(list),
      });
    } else {
      const len = Math.floor(rnd() * (rnd() < 0.8 ? 40 : 600));
      bytes = randomBytes(rnd, scratch.subarray(0, len)).slice();
      if (len > 1) {
        bytes[0] = (bytes[0] & 0xf8) | 6;
        if (rnd() < 0.7) bytes[1] &= 0x1f;
      }
    }
    const stranger = rnd() < 0.2;
    const from = stranger ? { address: `203.0.113.${Math.floor(rnd() * 255)}` } : LOCAL;
    const out = r.respond(bytes, from, NOW, () => snap);
    if (stranger) assert.deepEqual(out, [], "answered a non-local address");
    const total = out.reduce((n, b) => n + b.length, 0);
    assert.ok(total <= MAX_ANSWER_OCTETS, `answer of ${total} octets`);
    assert.ok(out.length <= MAX_FRAGMENTS);
    for (const b of out) {
      assert.ok(b.length >= CONTROL_HEADER_LENGTH && b.length % 4 === 0);
      assert.ok(decodeControlFragment(b) !== null);
    }
    if (out.length > 0) answered++;
  }
  assert.ok(answered > 5000, `answered ${answered}`);
});

Deno.test("mode 6: a refclock shows as ntpq's clock (srchost with parentheses, text refid)", () => {
  const gps = peer(3, "selected");
  gps.source = { ...gps.source, address: "GPS", mode: "refclock", name: null, stratum: 0 };
  gps.ntp = { ...gps.ntp!, remoteAddress: "GPS", stratum: 0, refId: 0x47505300, mode: 0 };
  const snap = snapshot([gps]);
  const { text } = ask(responder(), { opcode: 2, sequence: 1, associationId: 3 }, snap);
  assert.ok(text.includes('srchost="refclock(GPS)"'), text);
  assert.ok(text.includes("refid=GPS"), text);
  assert.ok(!text.includes("srcadr="), "no address for a refclock");
  assert.ok(!text.includes("flash="), text);
  const sys = ask(responder(), { opcode: 1, sequence: 1 }, snap);
  assert.equal(sys.last?.status, 0x0400, "sync source: a radio clock (4), not NTP");
});
