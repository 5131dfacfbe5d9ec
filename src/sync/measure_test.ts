import assert from "node:assert/strict";
import { instantFromParts } from "../core/time.ts";
import { emptyPacket, encodePacket, NtpMode, refIdFromAscii } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { buildClientRequest, evaluateReply } from "./measure.ts";

const request = buildClientRequest(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
const T1 = instantFromParts(1_800_000_000, 0);

function reply(edit: (p: ReturnType<typeof emptyPacket>) => void = () => {}): Uint8Array {
  const p = emptyPacket(NtpMode.Server);
  p.stratum = 2;
  p.precision = -20;
  p.originTime = request.cookie;
  // Server clock 0.5 s ahead; 10 ms each way; 1 ms inside the server.
  p.receiveTime = instantToNtp64(T1 + 510_000_000n);
  p.transmitTime = instantToNtp64(T1 + 511_000_000n);
  edit(p);
  return encodePacket(p);
}
const T4 = T1 + 21_000_000n;

Deno.test("request: all zeros except LI/VN/mode and the random transmit timestamp", () => {
  assert.equal(request.bytes.length, 48);
  assert.equal(request.bytes[0], 0x23);
  assert.ok(request.bytes.subarray(1, 40).every((b) => b === 0));
  assert.deepEqual([...request.bytes.subarray(40)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(request.cookie, 0x0102030405060708n);
});

Deno.test("offset and delay from the four timestamps", () => {
  const v = evaluateReply(request, T1, T4, reply());
  assert.equal(v.kind, "sample");
  if (v.kind !== "sample") return;
  assert.ok(Math.abs(v.measurement.offset - 0.5) < 1e-9, `${v.measurement.offset}`);
  assert.ok(Math.abs(v.measurement.delay - 0.020) < 1e-9);
  assert.ok(v.measurement.rootDistance > 0.010 && v.measurement.rootDistance < 0.0101);
});

Deno.test("reply checks: origin, duplicate, mode, version, leap, stratum, zeros, distance", () => {
  const reason = (bytes: Uint8Array, seen = new Set<bigint>()) => {
    const v = evaluateReply(request, T1, T4, bytes, seen);
    return v.kind === "rejected" ? v.reason : v.kind;
  };
  assert.equal(reason(reply((p) => p.originTime = 0n)), "origin-mismatch");
  const seen = new Set<bigint>();
  assert.equal(reason(reply(), seen), "sample");
  assert.equal(reason(reply(), seen), "duplicate");
  assert.equal(reason(reply((p) => p.mode = 2)), "not-server-mode");
  assert.equal(reason(reply((p) => p.version = 3)), "bad-version");
  assert.equal(reason(reply((p) => p.leap = 3)), "unsynchronised");
  assert.equal(reason(reply((p) => p.stratum = 16)), "bad-stratum");
  assert.equal(reason(reply((p) => p.receiveTime = 0n)), "zero-timestamp");
  assert.equal(reason(reply((p) => p.rootDispersion = 16)), "bad-root-distance");
  assert.equal(
    reason(reply((p) => p.transmitTime = instantToNtp64(T1 + 6_000_000_000n))),
    "bad-server-interval",
  );
  assert.equal(reason(Uint8Array.of(1, 2, 3)), "undecodable");
});

Deno.test("Kiss-o'-Death is recognised only when the origin matches", () => {
  const kod = (code: string, origin = request.cookie) =>
    reply((p) => {
      p.leap = 3;
      p.stratum = 0;
      p.refId = refIdFromAscii(code);
      p.originTime = origin;
    });
  const v = evaluateReply(request, T1, T4, kod("RATE"));
  assert.ok(v.kind === "kod" && v.code === "RATE" && v.action === "reduce-rate");
  const d = evaluateReply(request, T1, T4, kod("DENY"));
  assert.ok(d.kind === "kod" && d.action === "demobilize");
  const spoofed = evaluateReply(request, T1, T4, kod("DENY", 42n));
  assert.ok(spoofed.kind === "rejected" && spoofed.reason === "origin-mismatch");
});
