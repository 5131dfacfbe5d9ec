import assert from "node:assert/strict";
import {
  decodeKeMessage,
  encodeKeError,
  encodeKeRecords,
  encodeKeRequest,
  encodeKeResponse,
  interpretKeRequest,
  interpretKeResponse,
  type KeRecord,
  KeRecordType,
  keyExporterContext,
  MAX_KE_MESSAGE_LENGTH,
  u16ListBody,
} from "./ke_records.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const END: KeRecord = { critical: true, type: KeRecordType.END_OF_MESSAGE, body: new Uint8Array() };

function response(extra: KeRecord[] = [], options: { aead?: number } = {}): KeRecord[] {
  return [
    { critical: true, type: KeRecordType.NEXT_PROTOCOL, body: u16ListBody([0]) },
    { critical: false, type: KeRecordType.AEAD_ALGORITHM, body: u16ListBody([options.aead ?? 15]) },
    { critical: false, type: KeRecordType.NEW_COOKIE, body: new Uint8Array(100).fill(7) },
    { critical: false, type: KeRecordType.NEW_COOKIE, body: new Uint8Array(100).fill(8) },
    ...extra,
    END,
  ];
}

function decodeAll(bytes: Uint8Array): KeRecord[] {
  const r = decodeKeMessage(bytes);
  assert.ok(r.ok && r.complete, JSON.stringify(r));
  return r.records;
}

Deno.test("NTS-KE: the client request is NextProtocol(NTPv4), AEAD(15), End, all critical", () => {
  const bytes = encodeKeRequest([15]);
  assert.deepEqual(
    Array.from(bytes),
    [0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 2, 0, 15, 0x80, 0, 0, 0],
  );
});

Deno.test("NTS-KE: a response decodes, round-trips and is interpreted", () => {
  const records = response([
    { critical: false, type: KeRecordType.SERVER, body: new TextEncoder().encode("ntp.example") },
    { critical: false, type: KeRecordType.PORT, body: u16ListBody([4123]) },
    { critical: false, type: KeRecordType.WARNING, body: u16ListBody([9]) },
    { critical: false, type: 0x1234, body: new Uint8Array(3) },
  ]);
  const bytes = encodeKeRecords(records);
  const r = decodeKeMessage(bytes);
  assert.ok(r.ok && r.complete);
  assert.equal(r.length, bytes.length);
  assert.deepEqual(r.records, records);
  assert.deepEqual(encodeKeRecords(r.records), bytes);
  const i = interpretKeResponse(r.records, [15]);
  assert.ok(i.ok, JSON.stringify(i));
  assert.equal(i.response.aeadId, 15);
  assert.equal(i.response.nextProtocol, 0);
  assert.equal(i.response.cookies.length, 2);
  assert.equal(i.response.cookies[1][0], 8);
  assert.equal(i.response.server, "ntp.example");
  assert.equal(i.response.port, 4123);
  assert.deepEqual(i.response.warnings, [9]);
});

Deno.test("NTS-KE: every proper prefix of a message is incomplete, never an error", () => {
  const bytes = encodeKeRecords(response());
  for (let n = 0; n < bytes.length; n++) {
    const r = decodeKeMessage(bytes.subarray(0, n));
    assert.deepEqual(r, { ok: true, complete: false }, `prefix ${n}`);
  }
});

Deno.test("NTS-KE: bad End of Message, oversize and too many records are typed errors", () => {
  const badEnd = encodeKeRecords([{ critical: false, type: 0, body: new Uint8Array() }]);
  const r1 = decodeKeMessage(badEnd);
  assert.ok(!r1.ok && r1.error.kind === "bad-end");
  const nonEmptyEnd = encodeKeRecords([{ critical: true, type: 0, body: new Uint8Array(2) }]);
  const r2 = decodeKeMessage(nonEmptyEnd);
  assert.ok(!r2.ok && r2.error.kind === "bad-end");
  const huge = encodeKeRecords([
    { critical: false, type: 5, body: new Uint8Array(MAX_KE_MESSAGE_LENGTH) },
  ]);
  const r3 = decodeKeMessage(huge.subarray(0, 4));
  assert.ok(!r3.ok && r3.error.kind === "too-long");
  const many = encodeKeRecords(
    Array.from({ length: 300 }, () => ({ critical: false, type: 3, body: new Uint8Array(2) })),
  );
  const r4 = decodeKeMessage(many);
  assert.ok(!r4.ok && r4.error.kind === "too-many-records");
});

Deno.test("NTS-KE: the client refuses errors, unknown critical records and wrong choices", () => {
  const cases: [KeRecord[], string][] = [
    [
      response([{ critical: true, type: KeRecordType.ERROR, body: u16ListBody([1]) }]),
      "server-error",
    ],
    [response([{ critical: true, type: 0x4321, body: new Uint8Array() }]), "unrecognized-critical"],
    [response([], { aead: 17 }), "unexpected-value"],
    [
      response([{ critical: true, type: KeRecordType.NEXT_PROTOCOL, body: u16ListBody([0]) }]),
      "duplicate-record",
    ],
    [
      response([{ critical: false, type: KeRecordType.PORT, body: new Uint8Array(3) }]),
      "bad-record",
    ],
    [
      response([{ critical: false, type: KeRecordType.SERVER, body: new Uint8Array([0x41, 0]) }]),
      "bad-record",
    ],
    [response().filter((r) => r.type !== KeRecordType.NEW_COOKIE), "missing-record"],
    [response().filter((r) => r.type !== KeRecordType.AEAD_ALGORITHM), "missing-record"],
    [response().filter((r) => r.type !== KeRecordType.NEXT_PROTOCOL), "missing-record"],
    [
      [{ critical: true, type: KeRecordType.NEXT_PROTOCOL, body: u16ListBody([0x8001]) }, END],
      "unexpected-value",
    ],
  ];
  for (const [records, kind] of cases) {
    const r = interpretKeResponse(decodeAll(encodeKeRecords(records)), [15]);
    assert.ok(!r.ok, `accepted, expected ${kind}`);
    assert.equal(r.error.kind, kind, r.error.message);
    assert.ok(r.error.message.length > 0 && !r.error.message.includes("\n"));
  }
});

Deno.test("NTS-KE fuzz: 60 000 random and mutated inputs never throw nor over-allocate", () => {
  const rnd = seededRandom(0x4e54534b);
  const seed = encodeKeRecords(response([
    { critical: false, type: KeRecordType.SERVER, body: new TextEncoder().encode("a.b") },
    { critical: false, type: KeRecordType.PORT, body: u16ListBody([123]) },
  ]));
  let interpreted = 0;
  for (let i = 0; i < 60_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = randomBytes(rnd, new Uint8Array(Math.floor(rnd() * 300)));
    } else {
      bytes = rnd() < 0.2 ? seed.slice(0, Math.floor(rnd() * (seed.length + 1))) : seed.slice();
      const flips = Math.floor(rnd() * 4);
      for (let f = 0; f < flips && bytes.length > 0; f++) {
        bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
      }
    }
    const r = decodeKeMessage(bytes);
    if (!r.ok) {
      assert.ok(r.error.message.length > 0);
      continue;
    }
    if (!r.complete) continue;
    assert.ok(r.length <= bytes.length);
    let held = 0;
    for (const rec of r.records) held += rec.body.buffer.byteLength + 4;
    assert.ok(held <= bytes.length, "decoded buffers exceed the input");
    const v = interpretKeResponse(r.records, [15]);
    if (v.ok) {
      interpreted++;
      assert.ok(v.response.cookies.length > 0);
    } else assert.equal(typeof v.error.kind, "string");
  }
  assert.ok(interpreted > 2000, `only ${interpreted} mutated responses accepted`);
});

Deno.test("NTS-KE: exporter contexts for AES-SIV-CMAC-256 over NTPv4", () => {
  assert.deepEqual(Array.from(keyExporterContext(0, 15, "c2s")), [0, 0, 0, 15, 0]);
  assert.deepEqual(Array.from(keyExporterContext(0, 15, "s2c")), [0, 0, 0, 15, 1]);
  assert.deepEqual(Array.from(keyExporterContext(0x8001, 30, "s2c")), [0x80, 1, 0, 30, 1]);
});

Deno.test("NTS-KE server side: requests interpreted, responses the client accepts", () => {
  const request = decodeAll(encodeKeRequest([30, 15]));
  const r = interpretKeRequest(request, [15]);
  assert.deepEqual(r, { ok: true, aeadId: 15 });
  const none = interpretKeRequest(decodeAll(encodeKeRequest([30])), [15]);
  assert.ok(!none.ok && none.errorCode === 1);
  const critical = interpretKeRequest(
    [{ critical: true, type: 0x2222, body: new Uint8Array() }, ...request],
    [15],
  );
  assert.ok(!critical.ok && critical.errorCode === 0);
  const noNtp = interpretKeRequest(
    decodeAll(encodeKeRecords([
      { critical: true, type: 1, body: u16ListBody([0x8001]) },
      { critical: true, type: 4, body: u16ListBody([15]) },
      END,
    ])),
    [15],
  );
  assert.ok(!noNtp.ok && noNtp.errorCode === 1);
  const cookie = new Uint8Array(104).fill(5);
  const response = encodeKeResponse({ aeadId: 15, cookies: [cookie, cookie], port: 4123 });
  const i = interpretKeResponse(decodeAll(response), [15]);
  assert.ok(i.ok);
  assert.equal(i.response.cookies.length, 2);
  assert.equal(i.response.port, 4123);
  const err = interpretKeResponse(decodeAll(encodeKeError(2)), [15]);
  assert.ok(!err.ok && /error 2/.test(err.error.message));
});
