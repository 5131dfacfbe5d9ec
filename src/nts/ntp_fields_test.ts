import assert from "node:assert/strict";
import {
  buildNtsPacket,
  buildNtsRequest,
  decodeInnerFields,
  encodeInnerFields,
  KOD_NTSN,
  NtsFieldType,
  openNtsPacket,
  verifyNtsReply,
} from "./ntp_fields.ts";
import { decodePacket, encodePacket, type NtpPacket } from "../ntp/packet.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const ignore = !opensslAvailable();

const C2S = new Uint8Array(32).map((_, i) => i + 1);
const S2C = new Uint8Array(32).map((_, i) => 0xa0 ^ i);
const UID = new Uint8Array(32).map((_, i) => 0x30 + i);
const NONCE = new Uint8Array(16).fill(0x5a);
const COOKIE = new Uint8Array(100).map((_, i) => (i * 7) & 0xff);

function header(mode: number): NtpPacket {
  return {
    leap: 0,
    version: 4,
    mode,
    stratum: mode === 4 ? 2 : 0,
    poll: 6,
    precision: mode === 4 ? -20 : 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    refTime: 0n,
    originTime: mode === 4 ? 0x1234_5678_9abc_def0n : 0n,
    receiveTime: mode === 4 ? 0xe000_0000_0000_0000n : 0n,
    transmitTime: mode === 4 ? 0xe000_0000_1000_0000n : 0x1234_5678_9abc_def0n,
    extensions: [],
    mac: null,
  };
}

function request(): Uint8Array {
  return buildNtsRequest({
    header: header(3),
    uniqueId: UID,
    cookie: COOKIE,
    placeholders: 2,
    c2sKey: C2S,
    nonce: NONCE,
  });
}

/** What a server answers: echoed unique identifier, new cookies inside the authenticator. */
function reply(cookies: Uint8Array[], uid: Uint8Array = UID): Uint8Array {
  return buildNtsPacket(
    header(4),
    [{ type: NtsFieldType.UNIQUE_IDENTIFIER, value: uid }],
    S2C,
    NONCE,
    cookies.map((c) => ({ type: NtsFieldType.COOKIE, value: c })),
  );
}

Deno.test({
  name: "NTS fields: the request carries UID, cookie, placeholders and a verifiable authenticator",
  ignore,
  fn() {
    const bytes = request();
    // 48 header + 36 UID + 104 cookie + 2 x 104 placeholders + authenticator (4+4+16+16).
    assert.equal(bytes.length, 48 + 36 + 104 + 2 * 104 + 40);
    const d = decodePacket(bytes);
    assert.ok(d.ok);
    assert.deepEqual(
      d.packet.extensions.map((f) => f.type),
      [0x0104, 0x0204, 0x0304, 0x0304, 0x0404],
    );
    assert.deepEqual(d.packet.extensions[0].value, UID);
    assert.deepEqual(d.packet.extensions[1].value, COOKIE);
    assert.ok(d.packet.extensions[2].value.every((b) => b === 0));
    const auth = d.packet.extensions[4].value;
    assert.deepEqual(Array.from(auth.subarray(0, 4)), [0, 16, 0, 16]);
    assert.deepEqual(auth.subarray(4, 20), NONCE);
    // The server side opens it with the client-to-server key; the encrypted part is empty.
    const opened = openNtsPacket(bytes, C2S);
    assert.ok(opened.ok, opened.ok ? "" : opened.error.message);
    assert.equal(opened.opened.encrypted.length, 0);
    assert.equal(opened.opened.fields.length, 4);
    const wrong = openNtsPacket(bytes, S2C);
    assert.ok(!wrong.ok && wrong.error.kind === "auth-failed");
  },
});

Deno.test({
  name: "NTS fields: a server reply verifies and yields its encrypted cookies",
  ignore,
  fn() {
    const cookies = [new Uint8Array(100).fill(1), new Uint8Array(100).fill(2)];
    const r = verifyNtsReply(reply(cookies), S2C, UID);
    assert.ok(r.ok, r.ok ? "" : r.error.message);
    assert.deepEqual(r.reply.cookies, cookies);
    assert.equal(r.reply.packet.mode, 4);
    assert.equal(r.reply.packet.originTime, 0x1234_5678_9abc_def0n);
  },
});

Deno.test({
  name: "NTS fields: tampering anywhere, a wrong key, a wrong UID or trailing data are refused",
  ignore,
  fn() {
    const good = reply([new Uint8Array(100).fill(3)]);
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 1 << (i % 8);
      const r = verifyNtsReply(bad, S2C, UID);
      assert.ok(!r.ok, `flip at octet ${i} accepted`);
    }
    const wrongKey = verifyNtsReply(good, C2S, UID);
    assert.ok(!wrongKey.ok && wrongKey.error.kind === "auth-failed");
    const otherUid = UID.slice();
    otherUid[0] ^= 1;
    const mismatch = verifyNtsReply(good, S2C, otherUid);
    assert.ok(!mismatch.ok && mismatch.error.kind === "unique-id-mismatch");
    const noUid = buildNtsPacket(header(4), [], S2C, NONCE, []);
    const r3 = verifyNtsReply(noUid, S2C, UID);
    assert.ok(!r3.ok && r3.error.kind === "no-unique-id");
    const plain = encodePacket(header(4));
    const r4 = verifyNtsReply(plain, S2C, UID);
    assert.ok(!r4.ok && r4.error.kind === "no-authenticator");
    const trailing = new Uint8Array(good.length + 20);
    trailing.set(good);
    const r5 = verifyNtsReply(trailing, S2C, UID);
    assert.ok(!r5.ok && r5.error.kind === "fields-after-authenticator");
  },
});

Deno.test({
  name: "NTS fields: an NTSN Kiss-o'-Death echoing the UID is reported as nts-nak",
  ignore,
  fn() {
    const kod: NtpPacket = {
      ...header(4),
      leap: 3,
      stratum: 0,
      refId: KOD_NTSN,
      extensions: [{ type: NtsFieldType.UNIQUE_IDENTIFIER, value: UID }],
    };
    const r = verifyNtsReply(encodePacket(kod), S2C, UID);
    assert.ok(!r.ok && r.error.kind === "nts-nak");
  },
});

Deno.test("NTS fields: inner fields round-trip; malformed inner fields are null", () => {
  const fields = [
    { type: 0x0204, value: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    { type: 0x7777, value: new Uint8Array(0) },
  ];
  assert.deepEqual(decodeInnerFields(encodeInnerFields(fields)), fields);
  assert.equal(decodeInnerFields(new Uint8Array([2, 4, 0, 5, 0, 0, 0, 0])), null);
  assert.equal(decodeInnerFields(new Uint8Array([2, 4, 0, 12, 0, 0, 0, 0])), null);
  assert.equal(decodeInnerFields(new Uint8Array([2, 4])), null);
});

Deno.test({
  name: "NTS fields fuzz: 20 000 random and mutated replies never throw",
  ignore,
  fn() {
    const rnd = seededRandom(0x4e545346);
    const seed = reply([new Uint8Array(100).fill(9)]);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let bytes: Uint8Array;
      if (i % 4 === 0) {
        bytes = randomBytes(rnd, new Uint8Array(4 * Math.floor(rnd() * 80)));
        bytes[0] = 0x24;
      } else {
        bytes = seed.slice();
        const action = Math.floor(rnd() * 3);
        if (action === 0) {
          bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
        } else if (action === 1) {
          bytes = bytes.slice(0, 4 * Math.floor(rnd() * (bytes.length / 4 + 1)));
        } else {
          // Mutate the authenticator's length words, the most delicate part.
          const at = bytes.length - 40 + Math.floor(rnd() * 8);
          bytes[at] = Math.floor(rnd() * 256);
          if (rnd() < 0.3) accepted += verifyNtsReply(seed, S2C, UID).ok ? 1 : 0;
        }
      }
      const r = verifyNtsReply(bytes, S2C, UID);
      if (!r.ok) {
        assert.equal(typeof r.error.kind, "string");
        assert.ok(r.error.message.length > 0 && !r.error.message.includes("\n"));
      } else {
        accepted++;
      }
    }
    assert.ok(accepted > 100, `only ${accepted} accepted`);
  },
});
