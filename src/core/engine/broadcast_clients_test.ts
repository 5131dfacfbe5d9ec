import assert from "node:assert/strict";
import { defaultConfig } from "../../config/defaults.ts";
import type { BroadcastClientConfig } from "../../config/model_broadcast.ts";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";
import { parseKeyFile } from "../../ntp/keyfile.ts";
import {
  FakeDriver,
  FakeTransport,
  SeededRandom,
  VirtualScheduler,
} from "../../../tests/helpers/discipline_testing.ts";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { buildBroadcastPacket } from "../broadcast_server.ts";
import { BroadcastClientSource } from "../source/broadcast_client.ts";
import type { ReferenceState } from "../types.ts";
import { BroadcastClients } from "./broadcast_clients.ts";
import { Engine } from "./engine.ts";

const KEYS = parseKeyFile("1 SHA1 HEX:1234567890ABCDEF1234567890ABCDEF12345678\n").keys;
const OTHER_KEYS = parseKeyFile("1 SHA1 HEX:0000000000000000000000000000000000000001\n").keys;

const SERVER_REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 1,
  refId: 0x47505300,
  refTime: 0n,
  rootDelay: 0,
  rootDispersion: 1e-5,
  dispersionRate: 0,
  precisionLog2: -20,
};

function setup(client: Partial<BroadcastClientConfig> = {}, oneWay = 1e-4) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: -0.05, error: -50e-6 });
  const transport = new FakeTransport(sched, driver, {
    encode: encodePacket,
    decode: (b) => {
      const r = decodePacket(b);
      return r.ok ? r.packet : null;
    },
  });
  transport.reply.delay = oneWay;
  const lines: string[] = [];
  const engine = new Engine(
    { ...defaultConfig(), clockPrecision: 1e-8 },
    {
      driver,
      timers: sched,
      random: new SeededRandom(3),
      log: { log: (_l: string, m: string) => lines.push(m) },
    },
  );
  transport.deliver = (id, bytes) => engine.receiveReply(id, bytes, engine.clock.cookedNow());
  const clients = new BroadcastClients(engine, {
    client: {
      broadcast: true,
      groups: [],
      unauthenticated: false,
      novolley: false,
      maxSources: 2,
      ...client,
    },
    delay: 0.004,
    keys: KEYS,
    random: new SeededRandom(5),
    maxClockError: 1,
  });
  /** Broadcasts from `address` every 2 s (from `from` to `until` s), arriving `oneWay` s later. */
  const broadcaster = (
    address: string,
    key = KEYS.get(1),
    keys = KEYS,
    from = 0.5,
    until = Infinity,
  ) => {
    const send = () => {
      if (sched.now > until) return;
      const bytes = buildBroadcastPacket(
        { ...SERVER_REF, refTime: driver.trueNow() },
        2,
        key === null ? null : keys.get(key.id),
        () => driver.trueNow(),
      );
      sched.setTimer(oneWay, () => {
        clients.receive(bytes, { address, port: 123 }, engine.clock.cookedNow());
      });
      sched.setTimer(2, send);
    };
    sched.setTimer(from, send);
  };
  return { sched, driver, transport, engine, clients, lines, broadcaster };
}

Deno.test("broadcast client: calibrates with a volley, then synchronises on broadcasts", () => {
  const { sched, driver, transport, engine, clients, lines, broadcaster } = setup({
    unauthenticated: true,
  });
  engine.start(transport);
  broadcaster("192.0.2.9", null);
  sched.runUntil(600);
  assert.equal(clients.stats.mobilised, 1);
  const [id] = clients.ids();
  const s = engine.source(id);
  assert.ok(s instanceof BroadcastClientSource);
  assert.equal(s.calibrating, false);
  // Round trip 2e-4 s plus the server's 1e-5 s processing time.
  assert.ok(Math.abs(s.roundTripDelay - 2.1e-4) < 2e-5, `delay ${s.roundTripDelay}`);
  // The volley sent a handful of requests and then stopped: broadcasts did the rest.
  assert.ok(transport.sent.length >= 4 && transport.sent.length <= 8, `${transport.sent.length}`);
  assert.ok(s.counters.goodRx > 100, `good ${s.counters.goodRx}`);
  assert.ok(lines.some((l) => l.includes("calibrated from 4 exchanges")), lines.join("\n"));
  assert.ok(Math.abs(driver.clockError()) < 5e-5, `clock error ${driver.clockError()}`);
  assert.equal(engine.tracking().stratum, 2);
  const row = engine.sources().find((r) => r.address === "192.0.2.9");
  assert.equal(row?.mode, "client"); // chronyc shows it as a server (^)
  const nd = engine.ntpData("192.0.2.9");
  assert.equal(nd?.mode, 5); // the last broadcast
  assert.equal(nd?.stratum, 1);
  assert.equal(nd?.poll, 1); // the 2 s broadcast interval
  assert.equal(s.poll, 1);
});

Deno.test("broadcast client: a keyed broadcast keys the volley; unsigned replies are not trusted", () => {
  const { sched, engine, transport, clients, lines, broadcaster } = setup();
  engine.start(transport);
  broadcaster("192.0.2.14");
  sched.runUntil(300);
  assert.equal(clients.stats.mobilised, 1);
  // Every volley request carries a MAC (key 1); the fake server's replies carry none.
  assert.ok(transport.sent.length === 8, `${transport.sent.length}`);
  assert.ok(transport.sent.every((r) => r.bytes.length > 48));
  const s = engine.source(clients.ids()[0]) as BroadcastClientSource;
  assert.equal(s.roundTripDelay, 0.008); // broadcastdelay, both ways
  assert.ok(lines.some((l) => l.includes("calibration unanswered")), lines.join("\n"));
  assert.equal(engine.tracking().synchronised, true);
});

Deno.test("broadcast client: unauthenticated and wrongly keyed broadcasts mobilise nothing", () => {
  const { sched, engine, transport, clients, broadcaster } = setup();
  engine.start(transport);
  broadcaster("192.0.2.10", null);
  broadcaster("192.0.2.11", OTHER_KEYS.get(1), OTHER_KEYS);
  sched.runUntil(60);
  assert.equal(clients.stats.mobilised, 0);
  assert.ok(clients.stats.rejected >= 50, `${clients.stats.rejected}`);
  assert.equal(engine.sourceIds().length, 0);
});

Deno.test("broadcast client: `unauthenticated` accepts broadcasts without MAC", () => {
  const { sched, engine, transport, clients, broadcaster } = setup({ unauthenticated: true });
  engine.start(transport);
  broadcaster("192.0.2.12", null);
  sched.runUntil(120);
  assert.equal(clients.stats.mobilised, 1);
  assert.equal(engine.tracking().synchronised, true);
});

Deno.test("broadcast client: novolley sends nothing and uses broadcastdelay", () => {
  const { sched, engine, transport, clients, broadcaster } = setup({ novolley: true });
  engine.start(transport);
  broadcaster("192.0.2.13");
  sched.runUntil(200);
  assert.equal(transport.sent.length, 0);
  const s = engine.source(clients.ids()[0]) as BroadcastClientSource;
  assert.equal(s.roundTripDelay, 0.008);
  assert.ok(s.counters.goodRx > 50);
});

Deno.test("broadcast client: at most maxsources associations, however many servers", () => {
  const { sched, engine, transport, clients, broadcaster } = setup({ maxSources: 2 });
  engine.start(transport);
  for (let i = 0; i < 6; i++) broadcaster(`192.0.2.${20 + i}`);
  sched.runUntil(30);
  assert.equal(clients.ids().length, 2);
  assert.equal(engine.sourceIds().length, 2);
  assert.ok(clients.stats.overBound > 0);
});

Deno.test("broadcast routing fuzz: random datagrams from strangers never throw nor mobilise", () => {
  for (const unauthenticated of [false, true]) {
    const { sched, engine, transport, clients } = setup({ unauthenticated, maxSources: 3 });
    engine.start(transport);
    const rnd = seededRandom(unauthenticated ? 11 : 12);
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(rnd() * 120);
      const bytes = new Uint8Array(n);
      for (let j = 0; j < n; j++) bytes[j] = Math.floor(rnd() * 256);
      // Half of them look like broadcasts (mode 5, version 4) with random fields.
      if (n > 0 && rnd() < 0.5) bytes[0] = (bytes[0] & 0xc0) | (4 << 3) | 5;
      const from = { address: `198.51.100.${Math.floor(rnd() * 250)}`, port: 123 };
      clients.receive(bytes, from, engine.clock.cookedNow());
      if (i % 100 === 0) sched.runUntil(sched.now + 1);
    }
    const mobilised = clients.ids().length;
    if (!unauthenticated) assert.equal(mobilised, 0, "no MAC, no association");
    else assert.ok(mobilised <= 3, `${mobilised} associations over the bound`);
    assert.ok(engine.sourceIds().length <= 3);
  }
});

Deno.test("broadcast client: each valid broadcast reaches onReply (measurements.log) once", () => {
  const { sched, engine, transport, clients, broadcaster } = setup({ unauthenticated: true });
  const replies: number[] = [];
  engine.onReply = (id) => replies.push(id);
  engine.start(transport);
  broadcaster("192.0.2.15", null);
  broadcaster("192.0.2.15", OTHER_KEYS.get(1), OTHER_KEYS); // bad MAC: no line
  sched.runUntil(100);
  const s = engine.source(clients.ids()[0])!;
  assert.equal(replies.length, s.counters.validRx);
  assert.ok(replies.length > 40, `${replies.length}`);
});

Deno.test("broadcast client: a silent server's slot goes to a new one after 8 intervals", () => {
  const { sched, engine, transport, clients, broadcaster } = setup({ maxSources: 1 });
  engine.start(transport);
  broadcaster("192.0.2.30", KEYS.get(1), KEYS, 0.5, 60);
  broadcaster("192.0.2.31", KEYS.get(1), KEYS, 30);
  sched.runUntil(50);
  assert.deepEqual(engine.sources().map((r) => r.address), ["192.0.2.30"]);
  sched.runUntil(200);
  assert.deepEqual(engine.sources().map((r) => r.address), ["192.0.2.31"]);
  assert.equal(clients.stats.demobilised, 1);
});
