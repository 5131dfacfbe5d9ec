import assert from "node:assert/strict";
import { seededRandom } from "../../tests/helpers/random.ts";
import {
  ClientLog,
  clientRecordsForLimit,
  INTERVAL_UNKNOWN,
  NEVER_AGO,
  type RateDecision,
} from "./client_log.ts";
import { addSeconds, instantFromParts } from "../base/time.ts";

const T0 = instantFromParts(1_700_000_000);

Deno.test("clientloglimit bytes map to a power-of-two record count like chrony", () => {
  assert.equal(clientRecordsForLimit(524288), 4096);
  assert.equal(clientRecordsForLimit(524287), 2048);
  assert.equal(clientRecordsForLimit(0), 16);
  assert.equal(clientRecordsForLimit(2 ** 31), 16_777_216);
  assert.equal(clientRecordsForLimit(2 ** 40), 16_777_216);
});

Deno.test("a full table evicts the least recently hit record and counts a log drop", () => {
  const log = new ClientLog({ limitBytes: 16 * 128, random: () => 0.5 });
  assert.equal(log.capacity, 16);
  for (let i = 0; i < 16; i++) log.ntpRequest(`10.0.0.${i}`, addSeconds(T0, i));
  log.ntpRequest("10.0.0.0", addSeconds(T0, 20)); // refresh the oldest
  for (let i = 100; i < 104; i++) log.ntpRequest(`10.0.0.${i}`, addSeconds(T0, i));
  assert.equal(log.size, 16);
  assert.equal(log.serverStats().logDrops, 4);
  const addresses = log.clients(addSeconds(T0, 200)).map((c) => c.address);
  assert.ok(addresses.includes("10.0.0.0"), "recently hit record kept");
  for (const gone of ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]) {
    assert.ok(!addresses.includes(gone), `${gone} evicted`);
  }
  assert.ok(addresses.includes("10.0.0.5"));
  assert.equal(log.serverStats().ntpHits, 21);
});

/**
 * chrony's test 135-ratelimit: a client polling every 8 s for ~10 000 s against
 * `ratelimit interval 6 burst 2 leak 4`. With the documented token bucket (64 s of credit per
 * response, leaked answers empty the bucket) a cycle is 8 requests unless one of the first 7
 * leaks (p = 1/16), so the expected cycle length is sum_{k=0..7} (15/16)^k and the expected
 * responses are about requests / that. chrony's scenario expects 1200-1300 requests and
 * 180-220 responses.
 */
function run135(seed: number, kod = 0): { requests: number; responses: number; kods: number } {
  const log = new ClientLog({
    ntpRateLimit: { interval: 6, burst: 2, leak: 4, kod },
    random: seededRandom(seed),
  });
  let requests = 0;
  let responses = 0;
  let kods = 0;
  for (let t = 0; t < 10_000; t += 8) {
    requests++;
    const d: RateDecision = log.ntpRequest("192.0.2.10", addSeconds(T0, t));
    if (d === "respond") responses++;
    if (d === "kod") kods++;
  }
  const stats = log.serverStats();
  assert.equal(stats.ntpHits, requests);
  assert.equal(stats.ntpDrops, requests - responses);
  return { requests, responses, kods };
}

Deno.test("ratelimit reproduces chrony's 135-ratelimit figures", () => {
  let cycle = 0;
  for (let k = 0; k <= 7; k++) cycle += Math.pow(15 / 16, k);
  let total = 0;
  const seeds = 20;
  let requests = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = run135(seed);
    requests = r.requests;
    assert.ok(r.requests >= 1200 && r.requests <= 1300, `requests ${r.requests}`);
    assert.ok(r.responses >= 180 && r.responses <= 220, `seed ${seed}: ${r.responses} responses`);
    total += r.responses;
  }
  const predicted = requests / cycle;
  const mean = total / seeds;
  assert.ok(Math.abs(mean - predicted) < 6, `mean ${mean} vs predicted ${predicted.toFixed(1)}`);
});

Deno.test("ratelimit kod N turns about 1 in 2^N drops into KoD RATE", () => {
  let drops = 0;
  let kods = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const r = run135(seed, 2);
    drops += r.requests - r.responses;
    kods += r.kods;
  }
  const ratio = kods / drops;
  assert.ok(ratio > 0.22 && ratio < 0.28, `KoD ratio ${ratio}`);
});

Deno.test("ratelimit allows a burst, then one response per interval", () => {
  // Leak never fires with random() = 0.99.
  const log = new ClientLog({
    ntpRateLimit: { interval: 3, burst: 4, leak: 2, kod: 0 },
    random: () => 0.99,
  });
  const answered: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (log.ntpRequest("198.51.100.1", addSeconds(T0, i * 0.1)) === "respond") answered.push(i);
  }
  assert.deepEqual(answered, [0, 1, 2, 3], "burst of 4 from a full bucket");
  assert.equal(log.ntpRequest("198.51.100.1", addSeconds(T0, 0.9 + 7.0)), "drop");
  assert.equal(log.ntpRequest("198.51.100.1", addSeconds(T0, 0.9 + 8.0)), "respond");
  // Other clients have their own buckets.
  assert.equal(log.ntpRequest("198.51.100.2", addSeconds(T0, 1)), "respond");
});

Deno.test("leak answers about 1 in 2^leak requests over the limit", () => {
  const log = new ClientLog({
    ntpRateLimit: { interval: 10, burst: 1, leak: 2, kod: 0 },
    random: seededRandom(5),
  });
  let answered = 0;
  for (let i = 0; i < 4000; i++) {
    if (log.ntpRequest("203.0.113.9", addSeconds(T0, i * 0.01)) === "respond") answered++;
  }
  assert.ok(answered > 900 && answered < 1100, `answered ${answered}`);
});

Deno.test("clients report: hits, drops, average interval, last hit, reset", () => {
  const log = new ClientLog({ random: () => 0.5 });
  for (let i = 0; i < 10; i++) log.ntpRequest("192.0.2.1", addSeconds(T0, i * 8));
  log.cmdRequest("192.0.2.2", addSeconds(T0, 5), true);
  const now = addSeconds(T0, 100);
  const [a, b] = log.clients(now);
  assert.equal(a.address, "192.0.2.1");
  assert.equal(a.ntpHits, 10);
  assert.equal(a.ntpDrops, 0);
  assert.equal(a.ntpInterval, 3);
  assert.equal(a.cmdInterval, INTERVAL_UNKNOWN);
  assert.equal(a.lastNtpHitAgo, 28);
  assert.equal(a.lastCmdHitAgo, NEVER_AGO);
  assert.equal(b.cmdHits, 1);
  assert.equal(b.lastCmdHitAgo, 95);
  assert.equal(log.clients(now, { minHits: 2 }).length, 1);
  log.clients(now, { reset: true });
  assert.equal(log.clients(now)[0].ntpHits, 0);
  assert.equal(log.serverStats().cmdHits, 1);
});

Deno.test("cmdratelimit drops non-exempt clients only", () => {
  const log = new ClientLog({
    cmdRateLimit: { interval: 4, burst: 1, leak: 4, kod: 0 },
    random: () => 0.99,
  });
  assert.equal(log.cmdRequest("10.1.1.1", T0), "respond");
  assert.equal(log.cmdRequest("10.1.1.1", addSeconds(T0, 1)), "drop");
  for (let i = 0; i < 5; i++) assert.equal(log.cmdRequest("127.0.0.1", T0, true), "respond");
  assert.equal(log.serverStats().cmdDrops, 1);
});

Deno.test("noclientlog keeps no records and limits nothing", () => {
  const log = new ClientLog({
    disabled: true,
    ntpRateLimit: { interval: 10, burst: 1, leak: 4, kod: 0 },
    random: () => 0.99,
  });
  for (let i = 0; i < 10; i++) assert.equal(log.ntpRequest("10.2.2.2", T0), "respond");
  assert.equal(log.size, 0);
  assert.equal(log.serverStats().ntpHits, 10);
});

Deno.test("Unix-socket commands count in serverstats but make no client record", () => {
  const log = new ClientLog({ limitBytes: 524288, random: () => 0.5 });
  log.cmdLocalRequest();
  log.cmdLocalRequest();
  log.cmdRequest("127.0.0.1", T0, true);
  assert.equal(log.serverStats().cmdHits, 3);
  assert.equal(log.serverStats().cmdDrops, 0);
  assert.deepEqual(log.clients(T0).map((c) => c.address), ["127.0.0.1"]);
});
