import assert from "node:assert/strict";
import { COOKIE_LENGTH, type CookieKey, makeCookie, openCookie } from "./cookies.ts";
import { buildNtsNak, buildNtsReply, checkNtsRequest } from "./server.ts";
import { NtsSession, TARGET_COOKIES } from "./session.ts";
import type { NtpPacket } from "./ntp_fields.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const ignore = !opensslAvailable();
const rnd = seededRandom(0x5e7);
const random = (n: number) => randomBytes(rnd, new Uint8Array(n));

const OLD: CookieKey = { id: 7, key: new Uint8Array(32).fill(0x07) };
const CURRENT: CookieKey = { id: 0x8000_0008, key: new Uint8Array(32).fill(0x08) };
const C2S = new Uint8Array(32).fill(0x33);
const S2C = new Uint8Array(32).fill(0x44);

function header(mode: number): NtpPacket {
  return {
    leap: 0,
    version: 4,
    mode,
    stratum: mode === 4 ? 1 : 0,
    poll: 4,
    precision: -20,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    refTime: 0n,
    originTime: 0n,
    receiveTime: 0n,
    transmitTime: 0x1111_2222_3333_4444n,
    extensions: [],
    mac: null,
  };
}

function cookie(master: CookieKey): Uint8Array {
  return makeCookie(master, random(16), { aeadId: 15, c2sKey: C2S, s2cKey: S2C });
}

Deno.test({
  name: "NTS cookies: sealed and opened under the named key; tampering, unknown keys refused",
  ignore,
  fn() {
    const c = cookie(CURRENT);
    assert.equal(c.length, COOKIE_LENGTH);
    const opened = openCookie([OLD, CURRENT], c);
    assert.ok(opened !== null);
    assert.deepEqual(opened.c2sKey, C2S);
    assert.deepEqual(opened.s2cKey, S2C);
    assert.equal(openCookie([OLD], c), null);
    for (let i = 0; i < c.length; i++) {
      const bad = c.slice();
      bad[i] ^= 0x10;
      assert.equal(openCookie([OLD, CURRENT], bad), null, `flip at ${i} accepted`);
    }
    assert.equal(openCookie([CURRENT], c.subarray(0, COOKIE_LENGTH - 4)), null);
    // Two cookies for the same keys differ (fresh nonce): clients stay unlinkable.
    assert.notDeepEqual(cookie(CURRENT), c);
  },
});

Deno.test({
  name: "NTS server: a session's requests are checked and answered; the jar stays full",
  ignore,
  fn() {
    const cookies = Array.from({ length: 8 }, (_, i) => cookie(i < 4 ? OLD : CURRENT));
    const session = new NtsSession({ c2sKey: C2S, s2cKey: S2C, cookies }, random);
    for (let i = 0; i < 10; i++) {
      const request = session.buildRequest(header(3))!;
      const check = checkNtsRequest(request, [OLD, CURRENT]);
      assert.ok(check.ok, check.ok ? "" : check.error.message);
      assert.equal(check.cookiesWanted, 1);
      const fresh = Array.from({ length: check.cookiesWanted }, () => cookie(CURRENT));
      const reply = buildNtsReply(header(4), check.uniqueId, check.keys.s2cKey, random(16), fresh);
      const r = session.acceptReply(reply);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      assert.equal(session.cookieCount, TARGET_COOKIES);
    }
  },
});

Deno.test({
  name: "NTS server: bad cookie or authenticator gives NTSN; plain NTP is not NTS",
  ignore,
  fn() {
    const session = new NtsSession(
      { c2sKey: C2S, s2cKey: S2C, cookies: [cookie(OLD), cookie(CURRENT)] },
      random,
    );
    const request = session.buildRequest(header(3))!;
    // Key 7 retired: the cookie no longer opens, the client is told to run NTS-KE again.
    const retired = checkNtsRequest(request, [CURRENT]);
    assert.ok(!retired.ok && retired.nak && retired.uniqueId !== null);
    const nak = buildNtsNak(header(4), retired.uniqueId);
    const r = session.acceptReply(nak);
    assert.ok(!r.ok && r.error.kind === "nts-nak");
    assert.equal(session.needsKeyEstablishment, true);
    // A request whose authenticated part was altered: the cookie opens, the tag does not.
    const second = session.buildRequest(header(3))!;
    second[47] ^= 1;
    const altered = checkNtsRequest(second, [OLD, CURRENT]);
    assert.ok(!altered.ok && altered.nak && altered.error.kind === "auth-failed");
    const plain = checkNtsRequest(second.subarray(0, 48), [CURRENT]);
    assert.ok(!plain.ok && !plain.nak && plain.error.kind === "no-authenticator");
  },
});

Deno.test({
  name: "NTS server fuzz: 20 000 mutated requests never throw and never pass altered",
  ignore,
  fn() {
    const session = new NtsSession(
      { c2sKey: C2S, s2cKey: S2C, cookies: [cookie(CURRENT)] },
      random,
    );
    const request = session.buildRequest(header(3))!;
    assert.ok(checkNtsRequest(request, [CURRENT]).ok);
    const fz = seededRandom(99);
    for (let i = 0; i < 20_000; i++) {
      const bytes = request.slice();
      const flips = 1 + Math.floor(fz() * 3);
      for (let f = 0; f < flips; f++) {
        bytes[Math.floor(fz() * bytes.length)] ^= 1 << Math.floor(fz() * 8);
      }
      if (bytes.every((b, k) => b === request[k])) continue; // the flips cancelled out
      const r = checkNtsRequest(bytes, [CURRENT]);
      if (r.ok) {
        // Everything before the authenticator is associated data and the authenticator
        // has no padding here, so no altered octet may pass.
        const diff = [...bytes].flatMap((b, k) =>
          b !== request[k] ? [`${k}:${request[k]}->${b}`] : []
        );
        assert.fail(`altered request accepted (iteration ${i}, length ${bytes.length}): ${diff}`);
      }
      assert.ok(r.error.message.length > 0);
    }
  },
});
