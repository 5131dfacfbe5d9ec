import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../config/defaults.ts";
import type { Config, SourceParams } from "../../config/model.ts";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";
import {
  FakeDriver,
  FakeTransport,
  SeededRandom,
  VirtualScheduler,
} from "../../../tests/helpers/discipline_testing.ts";
import { Engine, matchesSource, type OneShotResult } from "./engine.ts";
import { TestBit } from "../source/measure.ts";

function setup(
  opts: {
    config?: Partial<Config>;
    params?: Partial<SourceParams>;
    offset?: number;
    error?: number;
    servers?: number;
    oneShot?: "step" | "print";
    localRefId?: number;
  } = {},
) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, {
    initialOffset: opts.offset ?? -0.1,
    error: opts.error ?? -100e-6,
  });
  const transport = new FakeTransport(sched, driver, {
    encode: encodePacket,
    decode: (b) => {
      const r = decodePacket(b);
      return r.ok ? r.packet : null;
    },
  });
  const lines: string[] = [];
  const log = { log: (_l: string, m: string) => lines.push(m) };
  const results: OneShotResult[] = [];
  const failures: string[] = [];
  const engine = new Engine(
    { ...defaultConfig(), clockPrecision: 1e-8, ...opts.config },
    { driver, timers: sched, random: new SeededRandom(7), log },
    null,
    {
      localRefId: opts.localRefId,
      oneShot: opts.oneShot
        ? {
          action: opts.oneShot,
          onResult: (r) => results.push(r),
          onFailure: (m) => failures.push(m),
        }
        : null,
    },
  );
  transport.deliver = (id, bytes) => engine.receiveReply(id, bytes, engine.clock.cookedNow());
  const ids: number[] = [];
  for (let i = 0; i < (opts.servers ?? 1); i++) {
    ids.push(
      engine.addSource(
        "server",
        { address: `192.0.2.${i + 1}`, port: 123 },
        { ...DEFAULT_SOURCE_PARAMS, ...opts.params },
        null,
      ),
    );
  }
  return { sched, driver, transport, engine, lines, ids, results, failures };
}

Deno.test("engine synchronises a 100 ppm clock 0.1 s off to well under a millisecond", () => {
  const { sched, driver, engine, lines, transport } = setup();
  engine.start(transport);
  sched.runUntil(2000);
  assert.ok(lines.includes("Selected source 192.0.2.1"), lines.join("\n"));
  assert.ok(Math.abs(driver.clockError()) < 1e-4, `clock error ${driver.clockError()}`);
  assert.ok(Math.abs(driver.rateError()) < 1e-6, `rate error ${driver.rateError()}`);
  const t = engine.tracking();
  assert.equal(t.synchronised, true);
  assert.equal(t.stratum, 2);
  assert.ok(Math.abs(t.freqPpm - 100 / (1 - 100e-6)) < 1, `freq ${t.freqPpm}`);
  assert.equal(engine.referenceState().stratum, 2);
  assert.equal(driver.steps.length, 0, "no step without makestep");
  engine.stop();
  assert.equal(sched.pending, 0, "stop cancels every timer");
});

Deno.test("requests are client mode with only a random transmit timestamp (data minimisation)", () => {
  const { sched, engine, transport } = setup();
  engine.start(transport);
  sched.runUntil(1);
  assert.equal(transport.sent.length, 1);
  const req = decodePacket(transport.sent[0].bytes);
  assert.ok(req.ok);
  if (!req.ok) return;
  assert.equal(req.packet.mode, 3);
  assert.equal(req.packet.version, 4);
  assert.equal(req.packet.originTime, 0n);
  assert.equal(req.packet.receiveTime, 0n);
  assert.equal(req.packet.refTime, 0n);
  assert.equal(req.packet.stratum, 0);
  assert.notEqual(req.packet.transmitTime, 0n);
  // The polling interval, as chrony sends it (servers echo it in the reply).
  assert.equal(req.packet.poll, engine.sources()[0].poll);
  assert.equal(req.packet.poll, 6);
  const ids = new Set(transport.sent.map((s) => s.id));
  sched.runUntil(200);
  assert.equal(new Set(transport.sent.map((s) => s.id)).size, transport.sent.length);
  assert.ok(ids.size === 1);
});

Deno.test("iburst gets 4 good samples within about 6 s and selects the source", () => {
  const { sched, engine, lines, ids, transport } = setup({ params: { iburst: true } });
  engine.start(transport);
  sched.runUntil(7);
  const src = engine.source(ids[0])!;
  assert.ok(src.counters.goodRx >= 4, `good ${src.counters.goodRx}`);
  assert.ok(lines.includes("Selected source 192.0.2.1"));
  assert.equal(src.mode, "online", "burst over");
});

Deno.test("a reply with a wrong origin timestamp fails test 2 and gives no sample", () => {
  const { sched, engine, transport, ids } = setup();
  transport.reply.badOrigin = true;
  engine.start(transport);
  sched.runUntil(300);
  const src = engine.source(ids[0])!;
  assert.equal(src.counters.goodRx, 0);
  assert.equal(src.counters.validRx, 0);
  assert.equal(src.reachability, 0);
});

Deno.test("maxdelay rejects slow replies (test A) but keeps the source reachable", () => {
  const { sched, engine, transport, ids } = setup({ params: { maxDelay: 0.01 } });
  transport.reply.delay = 0.05;
  engine.start(transport);
  sched.runUntil(300);
  const src = engine.source(ids[0])!;
  assert.equal(src.counters.goodRx, 0);
  assert.ok(src.counters.validRx > 0);
  assert.equal(src.ntpData(engine.clock.cookedNow()).tests & TestBit.TA, 0);
  assert.notEqual(src.ntpData(engine.clock.cookedNow()).tests & TestBit.T2, 0);
  assert.notEqual(src.reachability, 0);
});

Deno.test("KoD DENY stops polling the source and asks for a replacement", () => {
  const { sched, engine, transport, ids, lines } = setup();
  const replaced: number[] = [];
  engine.onReplaceSource = (id) => replaced.push(id);
  transport.reply.kiss = "DENY";
  engine.start(transport);
  sched.runUntil(1000);
  assert.equal(transport.sent.length, 1);
  assert.deepEqual(replaced, [ids[0]]);
  assert.ok(engine.source(ids[0])!.denied);
  assert.ok(lines.includes("Received KoD DENY from 192.0.2.1"));
});

Deno.test("KoD RATE backs off by four more poll intervals and counts as a valid reply", () => {
  const { sched, engine, transport, ids, lines } = setup();
  transport.reply.kiss = "RATE";
  engine.start(transport);
  sched.runUntil(310);
  assert.equal(transport.sent.length, 1, "next request only after 64 s + 4 x 64 s");
  sched.runUntil(330);
  assert.equal(transport.sent.length, 2);
  assert.ok(lines.includes("Received KoD RATE from 192.0.2.1"));
  assert.equal(engine.source(ids[0])!.counters.validRx, 2);
  assert.equal(engine.source(ids[0])!.counters.goodRx, 0);
  assert.equal(engine.source(ids[0])!.reachability, 0, "an unsynchronised reply is no reach");
});

Deno.test("8 unanswered polls signal replacement; the poll backs off", () => {
  const { sched, engine, transport, ids } = setup();
  const replaced: number[] = [];
  engine.onReplaceSource = (id) => replaced.push(id);
  transport.drop = () => true;
  engine.start(transport);
  sched.runUntil(64 * 30);
  assert.deepEqual(replaced, [ids[0]]);
  const src = engine.source(ids[0])!;
  assert.equal(src.reachability, 0);
  assert.ok(src.poll > 6, `poll ${src.poll}`);
});

Deno.test("offline keeps the history and stops polling; online with iburst resumes", () => {
  const { sched, engine, transport, ids } = setup({ params: { iburst: true } });
  engine.start(transport);
  sched.runUntil(300);
  const src = engine.source(ids[0])!;
  const samples = src.stats.sampleCount;
  assert.ok(samples >= 4);
  assert.deepEqual(engine.setConnectivity({ address: null, mask: null }, false), { ok: true });
  const sent = transport.sent.length;
  sched.runUntil(2000);
  assert.equal(transport.sent.length, sent);
  assert.equal(src.stats.sampleCount, samples);
  assert.equal(engine.activity().offline, 1);
  engine.setConnectivity({ address: "192.0.2.1", mask: null }, true);
  sched.runUntil(2008);
  assert.ok(transport.sent.length >= sent + 4, "iburst on going online");
  assert.deepEqual(engine.setConnectivity({ address: "192.0.2.9", mask: null }, true), {
    ok: false,
    status: "nosuchsource",
  });
});

Deno.test("auto_offline takes the source offline when sending fails", () => {
  const { sched, engine, transport, ids } = setup({ params: { autoOffline: true } });
  transport.sendOk = false;
  engine.start(transport);
  sched.runUntil(500);
  assert.equal(transport.sent.length, 1);
  assert.equal(engine.source(ids[0])!.mode, "offline");
});

Deno.test("a send that fails after the engine's turn (sendFailed) also takes it offline", () => {
  for (const autoOffline of [true, false]) {
    const { sched, engine, transport, ids, lines } = setup({ params: { autoOffline } });
    transport.deliver = () => {}; // the request never left
    engine.start(transport);
    sched.runUntil(1);
    assert.equal(transport.sent.length, 1);
    engine.sendFailed(999); // not a request of this engine: ignored
    assert.equal(engine.source(ids[0])!.mode, "online");
    engine.sendFailed(transport.sent[0].id);
    assert.equal(engine.source(ids[0])!.mode, autoOffline ? "offline" : "online");
    assert.equal(lines.includes("Source 192.0.2.1 offline (send failed)"), autoOffline);
    engine.stop();
  }
});

Deno.test("the poll interval grows towards maxpoll while tracking well", () => {
  const { sched, engine, ids, transport } = setup({ params: { maxPoll: 8 } });
  transport.reply.jitter = 1e-4;
  engine.start(transport);
  sched.runUntil(6000);
  const src = engine.source(ids[0])!;
  assert.ok(src.poll >= 7, `poll ${src.poll}`);
  assert.ok(src.stats.sampleCount >= 6, `samples ${src.stats.sampleCount}`);
});

Deno.test("transmissions of several sources are separated", () => {
  // No initial offset: a fast slew would make the test timers (which convert local seconds
  // at the rate when they are set) fire early in raw time.
  const { sched, engine, transport } = setup({
    servers: 3,
    params: { iburst: true },
    offset: 0,
    error: 0,
  });
  engine.start(transport);
  sched.runUntil(30);
  const times = transport.sent.map((s) => s.at).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i] - times[i - 1] >= 0.19, `gap ${times[i] - times[i - 1]}`);
  }
});

Deno.test("makestep 1 3 steps a 5 s offset at start; makestep now steps the rest", () => {
  const { sched, driver, engine, lines, transport } = setup({
    offset: -5,
    config: { makeStep: { threshold: 1, limit: 3 } },
    params: { iburst: true },
  });
  engine.start(transport);
  sched.runUntil(20);
  assert.equal(driver.steps.length, 1);
  assert.ok(Math.abs(driver.clockError()) < 1e-3, `${driver.clockError()}`);
  assert.ok(lines.some((l) => l.startsWith("System clock was stepped by 5.")));
  engine.adjustOffset(0.5);
  assert.deepEqual(engine.makeStepNow(), { ok: true });
  assert.equal(driver.steps.length, 2);
  assert.ok(Math.abs(driver.steps[1] - 0.5) < 1e-3);
});

Deno.test("one-shot mode reports the offset after the iburst and steps it", () => {
  const { sched, driver, engine, results, transport } = setup({ offset: -2, oneShot: "step" });
  engine.start(transport);
  sched.runUntil(30);
  assert.equal(results.length, 1);
  assert.ok(Math.abs(results[0].offset - 2) < 1e-3, `${results[0].offset}`);
  assert.ok(Math.abs(driver.clockError()) < 1e-3);
  const sent = transport.sent.length;
  sched.runUntil(300);
  assert.equal(transport.sent.length, sent, "polling stops after the result");
});

Deno.test("reports and commands: sources, sourcestats, selectdata, modify, delete", () => {
  const { sched, engine, transport, ids } = setup({ servers: 2 });
  engine.start(transport);
  sched.runUntil(1000);
  const rows = engine.sources();
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => r.state === "selected"));
  assert.equal(rows[0].reachability & 1, 1);
  assert.equal(engine.sourceStats()[0].address, "192.0.2.1");
  assert.ok(engine.sourceStats()[0].samples > 3);
  assert.ok(engine.selectData().some((r) => r.stateChar === "*"));
  assert.deepEqual(engine.modifySource("192.0.2.2", "maxPoll", 7), { ok: true });
  assert.equal(engine.modifySource("192.0.2.2", "bogus" as "maxPoll", 7).ok, false);
  // chronyc `offset ADDRESS SECONDS` (REQ_MODIFY_OFFSET) used to be refused as invalid.
  assert.deepEqual(engine.modifySource("192.0.2.2", "offset", 0.25), { ok: true });
  assert.equal(engine.source(ids[1])!.params.offset, 0.25);
  assert.ok(engine.ntpData("192.0.2.1")!.totalGoodRx > 3);
  assert.deepEqual(engine.deleteSource("192.0.2.2"), { ok: true });
  assert.equal(engine.sources().length, 1);
  assert.deepEqual(engine.resetSources(), { ok: true });
  assert.equal(engine.sourceStats()[0].samples, 0);
});

Deno.test("matchesSource applies chronyc's mask/address", () => {
  assert.ok(matchesSource("192.0.2.7", { address: null, mask: null }));
  assert.ok(matchesSource("192.0.2.7", { address: "192.0.2.0", mask: "255.255.255.0" }));
  assert.ok(!matchesSource("192.0.3.7", { address: "192.0.2.0", mask: "255.255.255.0" }));
  assert.ok(!matchesSource("192.0.2.7", { address: "192.0.2.8", mask: null }));
});

Deno.test("settime through manual input corrects offset and frequency (chrony 143-manual)", () => {
  const { sched, driver, engine, transport } = setup({
    servers: 0,
    config: { manual: true },
    offset: 0,
  });
  engine.start(transport);
  let last: { offset: number; dfreqPpm: number; newFreqPpm: number } | null = null;
  for (let h = 1; h <= 4; h++) {
    sched.runUntil(h * 3600);
    const r = engine.setTime(driver.trueNow());
    assert.ok(r.ok);
    if ("report" in r) last = r.report;
  }
  assert.ok(last !== null);
  // The oscillator is 100 ppm slow: the correction converges on about +100 ppm.
  assert.ok(Math.abs(engine.tracking().freqPpm - 100) < 1, `${engine.tracking().freqPpm}`);
  assert.equal(engine.tracking().refId, 0x4d414e55);
  assert.equal(engine.manualList().length, 4);
  sched.runUntil(4 * 3600 + 10);
  assert.ok(Math.abs(driver.clockError()) < 1e-3, `${driver.clockError()}`);
  assert.deepEqual(engine.manual("off"), { ok: true });
  const refused = engine.setTime(driver.trueNow());
  assert.equal(refused.ok, false);
});

Deno.test("one-shot mode gives up when no source answers its burst", () => {
  const { sched, engine, transport, results, failures } = setup({ oneShot: "print" });
  transport.drop = () => true;
  engine.start(transport);
  sched.runUntil(600);
  assert.equal(results.length, 0);
  assert.deepEqual(failures, ["No suitable source for synchronisation"]);
  const sent = transport.sent.length;
  assert.ok(sent <= 9, `${sent} requests`);
  sched.runUntil(2000);
  assert.equal(transport.sent.length, sent, "no more requests after giving up");
});

Deno.test("orphan mode follows an orphan with a smaller reference ID, else serves locally", () => {
  const local = {
    stratum: 5,
    distance: 1,
    orphan: true,
    waitUnsynced: 0,
    waitSynced: 0,
    activate: 0,
  };
  const follow = setup({ config: { local }, localRefId: 0xc0000264 });
  follow.transport.reply.stratum = 5;
  follow.engine.start(follow.transport);
  follow.sched.runUntil(1000);
  assert.equal(follow.engine.referenceState().stratum, 6);
  assert.equal(follow.engine.referenceState().refId, 0xc0000201);

  const lead = setup({ config: { local }, localRefId: 0xc0000200 });
  lead.transport.reply.stratum = 5;
  lead.engine.start(lead.transport);
  lead.sched.runUntil(1000);
  assert.equal(lead.engine.referenceState().stratum, 5);
  assert.equal(lead.engine.referenceState().refId, 0x7f7f0101);
  assert.equal(lead.engine.referenceState().synchronised, true);
});

Deno.test("random bytes as replies never throw and never become samples", () => {
  const { sched, engine, transport, ids } = setup();
  transport.drop = () => true;
  engine.start(transport);
  sched.runUntil(1);
  const rnd = new SeededRandom(99);
  const id = transport.sent[0].id;
  for (let i = 0; i < 500; i++) {
    const bytes = new Uint8Array(Math.floor(rnd.next() * 120));
    rnd.fill(bytes);
    if (bytes.length >= 1) bytes[0] = (bytes[0] & 0xc0) | (4 << 3) | 4; // v4 server mode
    engine.receiveReply(id, bytes, engine.clock.cookedNow());
  }
  assert.equal(engine.source(ids[0])!.counters.goodRx, 0);
});

Deno.test("presend sends a warm-up request 2 s before each real one; its reply is no sample", () => {
  const { sched, engine, transport, ids } = setup({ params: { presend: 6 } });
  engine.start(transport);
  sched.runUntil(100);
  const times = transport.sent.map((s) => s.at);
  assert.ok(times.length >= 4, `${times}`);
  assert.ok(Math.abs(times[1] - times[0] - 2) < 0.1, `${times}`);
  assert.ok(Math.abs(times[3] - times[2] - 2) < 0.1, `${times}`);
  const src = engine.source(ids[0])!;
  assert.equal(src.counters.goodRx, 2);
  assert.equal(src.counters.validRx, 4);
});

Deno.test("presend with xleave sends two warm-up requests 2 s apart before each real one", () => {
  const { sched, engine, transport, ids } = setup({ params: { presend: 6, xleave: true } });
  engine.start(transport);
  sched.runUntil(100);
  const times = transport.sent.map((s) => s.at);
  assert.ok(times.length >= 6, `${times}`);
  for (const i of [0, 1, 3, 4]) assert.ok(Math.abs(times[i + 1] - times[i] - 2) < 0.1, `${times}`);
  assert.ok(times[3] - times[2] > 30, `a poll interval after the real one: ${times}`);
  const src = engine.source(ids[0])!;
  assert.equal(src.counters.goodRx, 2);
  assert.equal(src.counters.validRx, 6);
});

Deno.test("an unanswered iburst sends 8 requests, then polls a (backed-off) poll interval later", () => {
  const { sched, engine, transport } = setup({ params: { iburst: true } });
  transport.drop = () => true;
  engine.start(transport);
  sched.runUntil(30);
  assert.equal(transport.sent.length, 8);
  const last = transport.sent[7].at;
  sched.runUntil(last + 63);
  assert.equal(transport.sent.length, 8);
  // The misses backed the poll off from 6 to 7 (+0.25 each, as chrony does).
  sched.runUntil(last + 135);
  assert.equal(transport.sent.length, 9);
});
