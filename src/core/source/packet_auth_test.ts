import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../config/defaults.ts";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";
import {
  FakeDriver,
  FakeTransport,
  SeededRandom,
  VirtualScheduler,
} from "../../../tests/helpers/discipline_testing.ts";
import { Engine } from "../engine/engine.ts";
import type { PacketAuthCheck, PacketAuthenticator, PacketAuthState } from "./packet_auth.ts";

/** A fake authenticator: counts calls; `ready` and `verdict` steer it. */
class FakeAuth implements PacketAuthenticator {
  ready = true;
  verdict: PacketAuthCheck = "ok";
  protected_ = 0;
  refused = 0;
  checked = 0;
  protect(request: Uint8Array): Uint8Array | null {
    if (!this.ready) {
      this.refused++;
      return null;
    }
    this.protected_++;
    return request;
  }
  check(_reply: Uint8Array): PacketAuthCheck {
    this.checked++;
    return this.verdict;
  }
  state(): PacketAuthState {
    return {
      mode: "NTS",
      keyId: 1,
      keyType: 15,
      keyLength: 256,
      keAttempts: 0,
      lastKeAgo: 0,
      cookies: 8,
      cookieLength: 100,
      nak: false,
    };
  }
}

function setup(auth: FakeAuth) {
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
  );
  transport.deliver = (id, bytes) => engine.receiveReply(id, bytes, engine.clock.cookedNow());
  const id = engine.addSource(
    "server",
    { address: "192.0.2.1", port: 123 },
    { ...DEFAULT_SOURCE_PARAMS, iburst: true, nts: true },
    null,
    auth,
  );
  return { sched, engine, transport, lines, id };
}

Deno.test("packet auth port: every request goes through protect, every reply through check", () => {
  const auth = new FakeAuth();
  const { sched, engine, transport, lines, id } = setup(auth);
  engine.start(transport);
  sched.runUntil(10);
  const src = engine.source(id)!;
  assert.equal(auth.protected_, transport.sent.length);
  assert.ok(auth.checked >= 4);
  assert.ok(src.counters.goodRx >= 4);
  assert.ok(lines.includes("Selected source 192.0.2.1"));
  assert.equal(src.ntpData(engine.clock.cookedNow()).authenticated, true);
});

Deno.test("packet auth port: replies that fail the check never become samples", () => {
  const auth = new FakeAuth();
  auth.verdict = "fail";
  const { sched, engine, transport, lines, id } = setup(auth);
  engine.start(transport);
  sched.runUntil(30);
  const src = engine.source(id)!;
  assert.ok(auth.checked >= 4);
  assert.equal(src.counters.validRx, 0);
  assert.equal(src.counters.goodRx, 0);
  assert.ok(!lines.includes("Selected source 192.0.2.1"));
  auth.verdict = "nak";
  sched.runUntil(60);
  assert.equal(src.counters.validRx, 0, "a NAK is no valid reply either");
});

Deno.test("packet auth port: no request while the authenticator cannot protect one", () => {
  const auth = new FakeAuth();
  auth.ready = false;
  const { sched, engine, transport, id } = setup(auth);
  engine.start(transport);
  sched.runUntil(20);
  assert.equal(transport.sent.length, 0);
  assert.ok(auth.refused >= 2);
  assert.equal(engine.source(id)!.counters.tx, 0);
  auth.ready = true;
  sched.runUntil(600);
  assert.ok(transport.sent.length > 0, "polling resumes once keys are there");
  assert.ok(engine.source(id)!.counters.goodRx >= 1);
});
