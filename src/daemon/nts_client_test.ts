import assert from "node:assert/strict";
import { NtsClient, type NtsClientDeps } from "./nts_client.ts";
import { type CookieKey, makeCookie } from "../nts/cookies.ts";
import { buildNtsNak, buildNtsReply, checkNtsRequest } from "../nts/server.ts";
import type { NtsKeOptions, NtsKeResult } from "../nts/ke_client.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode, type NtpPacket } from "../ntp/packet.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const ignore = !opensslAvailable();
const rnd = seededRandom(0x7e5);
const random = (n: number) => randomBytes(rnd, new Uint8Array(n));

/** A fake NTS server: NTS-KE hands out keys and cookies under `master`; answers requests. */
class FakeServer {
  master: CookieKey = { id: 1, key: random(32) };
  exchanges = 0;
  /** Cookies put in each reply (null: as many as asked). */
  cookiesPerReply: number | null = null;
  fail: Error | null = null;
  /** The options of every exchange. */
  seen: NtsKeOptions[] = [];

  exchange = (o: NtsKeOptions): Promise<NtsKeResult> => {
    this.exchanges++;
    this.seen.push(o);
    if (this.fail !== null) return Promise.reject(this.fail);
    const keys = { aeadId: 15, c2sKey: random(32), s2cKey: random(32) };
    return Promise.resolve({
      ...keys,
      cookies: Array.from({ length: 8 }, () => makeCookie(this.master, random(16), keys)),
      ntpServer: "192.0.2.1",
      ntpPort: 123,
      warnings: [],
    });
  };

  answer(request: Uint8Array): Uint8Array {
    const check = checkNtsRequest(request, [this.master]);
    const req = decodePacket(request);
    assert.ok(req.ok);
    const header: NtpPacket = {
      ...emptyPacket(NtpMode.Server),
      stratum: 1,
      originTime: req.packet.transmitTime,
      receiveTime: 5n << 32n,
      transmitTime: 6n << 32n,
    };
    if (!check.ok) {
      assert.ok(check.nak && check.uniqueId !== null, check.error.message);
      return buildNtsNak(header, check.uniqueId);
    }
    const n = this.cookiesPerReply ?? check.cookiesWanted;
    const cookies = Array.from(
      { length: n },
      () => makeCookie(this.master, random(16), check.keys),
    );
    return buildNtsReply(header, check.uniqueId, check.keys.s2cKey, random(16), cookies);
  }
}

function deps(server: FakeServer, now: { t: number }, logs: string[] = []): NtsClientDeps {
  return {
    exchange: server.exchange,
    random,
    timers: { setTimer: () => 0, cancelTimer: () => {} },
    log: { log: (_l, m) => logs.push(m) },
    unixNow: () => now.t,
    skipCertTime: () => false,
  };
}

function request(): Uint8Array {
  const p = emptyPacket(NtpMode.Client);
  p.transmitTime = BigInt(Math.floor(Math.random() * 2 ** 52)) + 1n;
  return encodePacket(p);
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test({
  name: "NTS client: protected requests verify, cookies are replenished, authdata counts them",
  ignore,
  async fn() {
    const server = new FakeServer();
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 0, dumpDir: null },
      deps(server, { t: 1000 }),
    );
    const where = await client.start();
    assert.deepEqual(where, { ntpServer: "192.0.2.1", ntpPort: 123 });
    for (let i = 0; i < 20; i++) {
      const req = client.protect(request());
      assert.ok(req !== null && req.length > 48);
      assert.equal(client.check(server.answer(req)), "ok");
    }
    const s = client.state();
    assert.equal(s.mode, "NTS");
    assert.equal(s.cookies, 8);
    assert.equal(s.keyId, 1);
    assert.equal(s.keyType, 15);
    assert.equal(s.keyLength, 256);
    assert.equal(s.nak, false);
    assert.equal(server.exchanges, 1);
  },
});

Deno.test({
  name: "NTS client: a tampered reply, a replayed reply and a reply to another request are refused",
  ignore,
  async fn() {
    const server = new FakeServer();
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 0, dumpDir: null },
      deps(server, { t: 1000 }),
    );
    await client.start();
    const req = client.protect(request())!;
    const reply = server.answer(req);
    // Every single-bit flip in the header or the fields is caught by the authenticator.
    for (const at of [1, 20, 32, 40, 47, 60, reply.length - 20, reply.length - 1]) {
      const bad = reply.slice();
      bad[at] ^= 0x01;
      assert.equal(client.check(bad), "fail", `flip at ${at}`);
    }
    assert.equal(client.check(reply), "ok");
    // Replayed: the request was answered, its identifier is no longer in flight.
    assert.equal(client.check(reply), "fail");
    // A reply to an older request after a newer one went out.
    const first = client.protect(request())!;
    const second = client.protect(request())!;
    assert.equal(client.check(server.answer(first)), "fail");
    assert.equal(client.check(server.answer(second)), "ok");
  },
});

Deno.test({
  name: "NTS client: an NTS NAK (server restarted with new keys) runs NTS-KE again",
  ignore,
  async fn() {
    const server = new FakeServer();
    const logs: string[] = [];
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 0, dumpDir: null },
      deps(server, { t: 1000 }, logs),
    );
    await client.start();
    server.master = { id: 2, key: random(32) }; // rotated: the client's cookies are unknown now
    const req = client.protect(request())!;
    assert.equal(client.check(server.answer(req)), "nak");
    assert.equal(client.state().nak, true);
    assert.equal(client.protect(request()), null, "no request with rejected keys");
    await settle();
    assert.equal(server.exchanges, 2);
    assert.equal(client.state().keyId, 2);
    const again = client.protect(request())!;
    assert.equal(client.check(server.answer(again)), "ok");
    assert.ok(logs.some((l) => /NAK/.test(l)), logs.join("\n"));
  },
});

Deno.test({
  name: "NTS client: a server that stops giving cookies drains the jar, then NTS-KE runs again",
  ignore,
  async fn() {
    const server = new FakeServer();
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 0, dumpDir: null },
      deps(server, { t: 1000 }),
    );
    await client.start();
    server.cookiesPerReply = 0;
    for (let i = 0; i < 8; i++) {
      const req = client.protect(request());
      assert.ok(req !== null, `request ${i}`);
      assert.equal(client.check(server.answer(req)), "ok");
      assert.equal(client.state().cookies, 7 - i);
    }
    assert.equal(client.protect(request()), null);
    await settle();
    assert.equal(server.exchanges, 2);
    assert.equal(client.state().cookies, 8);
  },
});

Deno.test({
  name: "NTS client: failed NTS-KE backs off; ntsrefresh renews keys when they are old",
  ignore,
  async fn() {
    const server = new FakeServer();
    const now = { t: 1000 };
    const logs: string[] = [];
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 3600, dumpDir: null },
      deps(server, now, logs),
    );
    await client.start();
    now.t += 3600;
    server.fail = new Error("connection refused");
    assert.equal(client.protect(request()), null);
    await settle();
    assert.equal(server.exchanges, 2);
    assert.equal(client.state().keAttempts, 1);
    // Within the back-off no new attempt is made.
    assert.equal(client.protect(request()), null);
    await settle();
    assert.equal(server.exchanges, 2);
    now.t += 9;
    server.fail = null;
    assert.equal(client.protect(request()), null);
    await settle();
    assert.equal(server.exchanges, 3);
    assert.ok(client.protect(request()) !== null);
    assert.ok(
      logs.some((l) => /failed \(connection refused\); retrying in 8 s/.test(l)),
      logs.join("\n"),
    );
  },
});

Deno.test({
  name: "NTS client: ntsdumpdir keeps keys and cookies across a restart (no NTS-KE then)",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-dump-" });
    try {
      const server = new FakeServer();
      const now = { t: 1000 };
      const options = {
        ke: { host: "192.0.2.1", serverName: "ntp.example" },
        refresh: 3600,
        dumpDir: dir,
      };
      const first = new NtsClient(options, deps(server, now));
      await first.start();
      const req = first.protect(request())!;
      assert.equal(first.check(server.answer(req)), "ok");
      await waitForFile(first.dumpPath!); // the atomic write
      const path = first.dumpPath!;
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      const second = new NtsClient(options, deps(server, now));
      await second.start();
      assert.equal(server.exchanges, 1, "cookies loaded from the dump");
      const again = second.protect(request())!;
      assert.equal(second.check(server.answer(again)), "ok");
      // Too old for ntsrefresh: NTS-KE instead.
      now.t += 3600;
      const third = new NtsClient(options, deps(server, now));
      await third.start();
      assert.equal(server.exchanges, 2);
      // A corrupt dump is refused with a warning.
      await Deno.writeTextFile(path, "{not json");
      const logs: string[] = [];
      const fourth = new NtsClient(options, deps(server, now, logs));
      await fourth.start();
      assert.equal(server.exchanges, 3);
      assert.ok(logs.some((l) => /Could not load NTS cookies/.test(l)));
    } finally {
      await removeAfterWrites(dir);
    }
  },
});

/**
 * Removes `dir`, retrying while a background atomic write (temporary file, then rename) may
 * still be adding a file to it ("Directory not empty").
 */
async function removeAfterWrites(dir: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      return await Deno.remove(dir, { recursive: true });
    } catch (e) {
      if (i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Waits (up to 5 s) until `path` exists: the atomic write runs in the background. */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`${path} was not written`);
}

Deno.test({
  name: "NTS client: a clock before the time floor checks certificates at the floor (logged)",
  ignore,
  async fn() {
    const floor = Date.parse("2026-01-01T00:00:00Z") / 1000;
    const cases = [
      { now: 1000, skip: false, want: { timeFloor: floor, noTimeCheck: undefined }, log: true },
      { now: floor + 60, skip: false, want: { timeFloor: undefined, noTimeCheck: undefined } },
      { now: 1000, skip: true, want: { timeFloor: undefined, noTimeCheck: true } },
    ];
    for (const c of cases) {
      const server = new FakeServer();
      const logs: string[] = [];
      const client = new NtsClient(
        { ke: { host: "192.0.2.1", serverName: "nts.example" }, refresh: 0, dumpDir: null },
        { ...deps(server, { t: c.now }, logs), skipCertTime: () => c.skip, timeFloor: floor },
      );
      await client.start();
      const o = server.seen[0];
      assert.deepEqual({ timeFloor: o.timeFloor, noTimeCheck: o.noTimeCheck }, c.want);
      const warned = logs.some((l) =>
        /System clock \(1970-01-01T00:16:40.000Z\) is before 2026-01-01T00:00:00.000Z: certificates of nts.example checked for expiry/
          .test(l)
      );
      assert.equal(warned, c.log === true, logs.join("\n"));
    }
  },
});

Deno.test({
  name: "NTS client: keys from an unchecked NTS-KE are renewed, checked, once the clock counts",
  ignore,
  async fn() {
    const server = new FakeServer();
    const logs: string[] = [];
    let skip = true;
    const client = new NtsClient(
      { ke: { host: "192.0.2.1", serverName: "nts.example" }, refresh: 0, dumpDir: null },
      { ...deps(server, { t: 2e9 }, logs), skipCertTime: () => skip, timeFloor: 1e9 },
    );
    await client.start();
    assert.equal(server.seen[0].noTimeCheck, true);
    assert.ok(client.certificateTimeUnverified);
    // Still within nocerttimecheck: the keys stay.
    client.clockUpdated();
    assert.equal(server.exchanges, 1);
    assert.ok(client.protect(request()) !== null);
    // The period is over: the keys go, NTS-KE runs again with the date check.
    skip = false;
    client.clockUpdated();
    assert.equal(server.exchanges, 2);
    assert.equal(server.seen[1].noTimeCheck, undefined);
    assert.equal(server.seen[1].timeFloor, undefined);
    assert.equal(client.protect(request()), null, "no request protected before the new keys");
    await settle();
    assert.ok(client.protect(request()) !== null);
    assert.equal(client.certificateTimeUnverified, false);
    client.clockUpdated();
    assert.equal(server.exchanges, 2, "checked keys are kept");
    assert.ok(logs.some((l) => /checking the certificate of nts.example again/.test(l)));
  },
});

Deno.test({
  name: "NTS client: a refused re-check leaves the source without keys (no fallback)",
  ignore,
  async fn() {
    const server = new FakeServer();
    const logs: string[] = [];
    const now = { t: 1000 };
    const client = new NtsClient(
      { ke: { host: "192.0.2.1" }, refresh: 0, dumpDir: null },
      { ...deps(server, now, logs), timeFloor: 1e9 },
    );
    await client.start();
    assert.equal(server.seen[0].timeFloor, 1e9);
    assert.ok(client.certificateTimeUnverified);
    now.t = 2e9; // the clock was stepped past the floor
    server.fail = new Error("certificate has expired");
    client.clockUpdated();
    await settle();
    assert.equal(server.exchanges, 2);
    assert.equal(client.protect(request()), null);
    assert.ok(logs.some((l) => /failed \(certificate has expired\)/.test(l)), logs.join("\n"));
  },
});
