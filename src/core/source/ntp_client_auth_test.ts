import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../config/defaults.ts";
import { appendMac, checkPacketAuth } from "../../ntp/auth.ts";
import { type KeyStore, parseKeyFile } from "../../ntp/keyfile.ts";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";
import {
  FakeDriver,
  FakeTransport,
  SeededRandom,
  VirtualScheduler,
} from "../../../tests/helpers/discipline_testing.ts";
import { Engine } from "../engine/engine.ts";
import { TestBit } from "./measure.ts";

const KEYS = parseKeyFile(
  "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7\n" +
    "2 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D\n" +
    "3 SHA256 HEX:00112233445566778899aabbccddeeff\n",
).keys;

/** An engine with one source using `key`, whose server signs replies with `serverKey`. */
function setup(key: number, serverKeyId: number | null, keys: KeyStore | null = KEYS) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: -0.1, error: -100e-6 });
  const transport = new FakeTransport(sched, driver, {
    encode: encodePacket,
    decode: (b) => {
      const r = decodePacket(b);
      return r.ok ? r.packet : null;
    },
  });
  const lines: string[] = [];
  const engine = new Engine(
    { ...defaultConfig(), clockPrecision: 1e-8 },
    {
      driver,
      timers: sched,
      random: new SeededRandom(7),
      log: { log: (_l: string, m: string) => lines.push(m) },
    },
    null,
    { keys },
  );
  transport.deliver = (id, bytes) => {
    const k = serverKeyId === null ? null : KEYS.get(serverKeyId)!;
    const v = k === null ? bytes : appendMac(bytes, k);
    engine.receiveReply(id, v, engine.clock.cookedNow());
  };
  const id = engine.addSource(
    "server",
    { address: "192.0.2.1", port: 123 },
    { ...DEFAULT_SOURCE_PARAMS, iburst: true, key },
    null,
  );
  return { sched, engine, transport, lines, id };
}

Deno.test("auth: a keyed source sends MACs and synchronises on authenticated replies", () => {
  for (const keyId of [1, 2, 3]) {
    const { sched, engine, transport, lines, id } = setup(keyId, keyId);
    engine.start(transport);
    sched.runUntil(10);
    const check = checkPacketAuth(transport.sent[0].bytes, KEYS);
    assert.ok(check.kind === "ok" && check.key.id === keyId, `key ${keyId}`);
    // SHA256 would be truncated in NTPv4: NTPv3 with the full MAC, as chrony does.
    assert.equal((transport.sent[0].bytes[0] >> 3) & 7, keyId === 3 ? 3 : 4);
    const src = engine.source(id)!;
    assert.ok(src.counters.goodRx >= 4, `key ${keyId}: good ${src.counters.goodRx}`);
    assert.ok(lines.includes("Selected source 192.0.2.1"));
    const nd = src.ntpData(engine.clock.cookedNow());
    assert.equal(nd.authenticated, true);
    assert.ok(nd.tests & TestBit.T5);
    engine.stop();
  }
});

Deno.test("auth: unauthenticated or wrongly keyed replies fail test 5", () => {
  for (const serverKey of [null, 2]) {
    const { sched, engine, id, transport } = setup(1, serverKey);
    engine.start(transport);
    sched.runUntil(100);
    const src = engine.source(id)!;
    assert.equal(src.counters.validRx, 0);
    assert.equal(src.counters.goodRx, 0);
    assert.equal(src.reachability, 0);
    const nd = src.ntpData(engine.clock.cookedNow());
    assert.equal(nd.tests & TestBit.T5, 0);
    assert.ok(nd.tests & TestBit.T1 && nd.tests & TestBit.T2);
    engine.stop();
  }
});

Deno.test("auth: a source without key rejects replies carrying a MAC", () => {
  const { sched, engine, id, transport } = setup(1, 1);
  engine.start(transport);
  sched.runUntil(10);
  engine.stop();
  const plain = setup(1, null);
  // Same engine, but a source without key: replies with a MAC are not valid.
  const s2 = plain.engine.addSource(
    "server",
    { address: "192.0.2.2", port: 123 },
    { ...DEFAULT_SOURCE_PARAMS, iburst: true },
    null,
  );
  plain.transport.deliver = (rid, bytes) =>
    plain.engine.receiveReply(rid, appendMac(bytes, KEYS.get(1)!), plain.engine.clock.cookedNow());
  plain.engine.start(transport);
  plain.sched.runUntil(10);
  assert.equal(plain.engine.source(s2)!.counters.validRx, 0);
  plain.engine.stop();
  assert.ok(engine.source(id)!.counters.goodRx > 0);
});

Deno.test("auth: a source whose key is missing sends nothing and says so", () => {
  const { sched, engine, transport, lines } = setup(7, 1);
  engine.start(transport);
  sched.runUntil(100);
  assert.equal(transport.sent.length, 0);
  assert.ok(lines.some((l) => l.includes("Key 7 is missing")), lines.join("\n"));
  engine.stop();
});
