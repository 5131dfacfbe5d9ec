import assert from "node:assert/strict";
import { NtsSession, TARGET_COOKIES } from "./session.ts";
import {
  buildNtsPacket,
  KOD_NTSN,
  type NtpPacket,
  NtsFieldType,
  openNtsPacket,
} from "./ntp_fields.ts";
import { encodePacket } from "../ntp/packet.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const ignore = !opensslAvailable();
const C2S = new Uint8Array(32).fill(0x11);
const S2C = new Uint8Array(32).fill(0x22);

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

function cookie(tag: number): Uint8Array {
  return new Uint8Array(100).fill(tag);
}

/** A fake server: opens the request, answers with one cookie per cookie or placeholder. */
function serve(request: Uint8Array, next: () => number): Uint8Array {
  const opened = openNtsPacket(request, C2S);
  assert.ok(opened.ok, opened.ok ? "" : opened.error.message);
  const fields = opened.opened.fields;
  const uid = fields.find((f) => f.type === NtsFieldType.UNIQUE_IDENTIFIER)!;
  const wanted =
    fields.filter((f) =>
      f.type === NtsFieldType.COOKIE || f.type === NtsFieldType.COOKIE_PLACEHOLDER
    ).length;
  const cookies = Array.from({ length: wanted }, () => ({
    type: NtsFieldType.COOKIE,
    value: cookie(next()),
  }));
  return buildNtsPacket(header(4), [uid], S2C, new Uint8Array(16).fill(9), cookies);
}

function session(cookies: number): NtsSession {
  const rnd = seededRandom(42);
  return new NtsSession(
    { c2sKey: C2S, s2cKey: S2C, cookies: Array.from({ length: cookies }, (_, i) => cookie(i)) },
    (n) => randomBytes(rnd, new Uint8Array(n)),
  );
}

Deno.test({
  name: "NTS session: cookies are spent once and refilled to 8 by placeholders",
  ignore,
  fn() {
    const s = session(3);
    let tag = 100;
    const request = s.buildRequest(header(3))!;
    assert.equal(s.cookieCount, 2);
    const opened = openNtsPacket(request, C2S);
    assert.ok(opened.ok);
    const placeholders = opened.opened.fields.filter((f) =>
      f.type === NtsFieldType.COOKIE_PLACEHOLDER
    );
    assert.equal(placeholders.length, TARGET_COOKIES - 2 - 1);
    const reply = serve(request, () => tag++);
    const r = s.acceptReply(reply);
    assert.ok(r.ok, r.ok ? "" : r.error.message);
    assert.equal(s.cookieCount, TARGET_COOKIES);
    // A duplicate of the same reply is refused (nothing in flight any more).
    assert.ok(!s.acceptReply(reply).ok);
    // Steady state: each exchange spends one cookie and gets one back.
    for (let i = 0; i < 5; i++) {
      const q = s.buildRequest(header(3))!;
      assert.ok(s.acceptReply(serve(q, () => tag++)).ok);
      assert.equal(s.cookieCount, TARGET_COOKIES);
    }
  },
});

Deno.test({
  name: "NTS session: a reply to an older request, an empty jar and NTSN",
  ignore,
  fn() {
    const s = session(2);
    const first = s.buildRequest(header(3))!;
    const second = s.buildRequest(header(3))!;
    assert.equal(s.cookieCount, 0);
    assert.equal(s.needsKeyEstablishment, true);
    assert.equal(s.buildRequest(header(3)), null);
    const stale = s.acceptReply(serve(first, () => 1));
    assert.ok(!stale.ok && stale.error.kind === "unique-id-mismatch");
    assert.ok(s.acceptReply(serve(second, () => 2)).ok);
    assert.equal(s.needsKeyEstablishment, false);
    const q = s.buildRequest(header(3))!;
    const uid = openNtsPacket(q, C2S);
    assert.ok(uid.ok);
    const nak = encodePacket({
      ...header(4),
      leap: 3,
      stratum: 0,
      refId: KOD_NTSN,
      extensions: [uid.opened.fields[0]],
    });
    const r = s.acceptReply(nak);
    assert.ok(!r.ok && r.error.kind === "nts-nak");
    assert.equal(s.needsKeyEstablishment, true);
  },
});
