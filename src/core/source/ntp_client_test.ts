import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import type { SourceParams } from "../../config/model.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import { SeededRandom } from "../../../tests/helpers/discipline_testing.ts";
import { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ReferenceState } from "../types.ts";
import { NtpSource } from "./ntp_client.ts";
import type { SourceContext, SourceOutcome } from "./source.ts";

const T0: Instant = 1_800_000_000_000_000_000n;
const UNSYNC: ReferenceState = {
  synchronised: false,
  leap: 3,
  stratum: 16,
  refId: 0,
  refTime: 0n,
  rootDelay: 0,
  rootDispersion: 0,
  dispersionRate: 0,
  precisionLog2: -20,
};

function ctx(now: Instant, selected = false): SourceContext {
  return { now, selected, reference: () => UNSYNC, isLeapSecondClose: () => false };
}

function source(params: Partial<SourceParams> = {}): NtpSource {
  return new NtpSource({
    id: 1,
    type: "server",
    address: { address: "192.0.2.1", port: 123 },
    name: null,
    params: { ...DEFAULT_SOURCE_PARAMS, ...params },
    precision: 1e-8,
    random: new SeededRandom(5),
    stats: new SourceStats({
      minSamples: 6,
      maxSamples: 64,
      asymmetry: null,
      precision: 1e-8,
      maxClockError: 1,
      minDelay: null,
      maxJitter: 1,
    }),
    maxClockError: 1,
  });
}

/** A server reply to `request`, the server 0.25 s ahead, received 20 ms after `sent`. */
function reply(request: Uint8Array, sent: Instant): { bytes: Uint8Array; rx: Instant } {
  const req = decodePacket(request);
  assert.ok(req.ok);
  const p = emptyPacket(NtpMode.Server);
  p.stratum = 1;
  p.precision = -20;
  p.originTime = req.packet.transmitTime;
  p.receiveTime = instantToNtp64(sent + 260_000_000n);
  p.transmitTime = instantToNtp64(sent + 260_000_000n);
  return { bytes: encodePacket(p), rx: sent + 20_000_000n };
}

function kinds(out: SourceOutcome[]): string[] {
  return out.map((o) => o.kind);
}

Deno.test("a client source returns its effects: wake, send, then the sample and the next wake", () => {
  const s = source();
  const started = s.start(ctx(T0));
  assert.deepEqual(kinds(started), ["wake"]);
  assert.equal((started[0] as { delay: number }).delay, 0.2, "INITIAL_DELAY");
  const t1 = T0 + 200_000_000n;
  const send = s.timeout(ctx(t1));
  assert.deepEqual(kinds(send), ["send"]);
  const { token, bytes } = send[0] as { token: number; bytes: Uint8Array };
  assert.ok(s.expects(token));
  const afterSend = s.sent(token, true, t1, ctx(t1));
  assert.deepEqual(kinds(afterSend), ["wake"], "no reachability shift before a miss");
  assert.equal(s.lastTransmit, t1);
  const r = reply(bytes, t1);
  const out = s.receive(token, r.bytes, r.rx, ctx(r.rx));
  assert.deepEqual(kinds(out), ["reachability", "sample", "wake"]);
  const sample = (out[1] as { sample: { offset: number } }).sample;
  assert.ok(Math.abs(sample.offset - 0.25) < 1e-6, `${sample.offset}`);
  const wake = out[2] as { fromLastTx: boolean; delay: number };
  assert.ok(wake.fromLastTx, "the next poll counts from the last transmission");
  assert.ok(wake.delay >= 64 && wake.delay <= 64 * 1.02);
  assert.equal(s.reachability, 1);
  assert.deepEqual(s.receive(token, r.bytes, r.rx, ctx(r.rx)), [], "a duplicate is no reply");
});

Deno.test("misses shift zeros, back off, and after 8 ask for a replacement", () => {
  const s = source();
  s.start(ctx(T0));
  const seen: string[] = [];
  let t = T0;
  for (let i = 0; i < 10; i++) {
    t += 64_000_000_000n;
    const out = s.timeout(ctx(t));
    seen.push(...kinds(out));
    const send = out.find((o) => o.kind === "send") as { token: number };
    seen.push(...kinds(s.sent(send.token, true, t, ctx(t))));
  }
  assert.equal(seen.filter((k) => k === "replace").length, 1);
  assert.equal(seen.filter((k) => k === "reachability").length, 9);
  assert.equal(s.reachability, 0);
  assert.ok(s.poll > 6, `poll ${s.poll} backed off`);
});

Deno.test("going offline cancels the wake-up and empties the register; denied sources stay quiet", () => {
  const s = source();
  s.start(ctx(T0));
  assert.deepEqual(kinds(s.setOnline(false, ctx(T0))), ["cancel-wake", "reachability"]);
  assert.equal(s.mode, "offline");
  assert.deepEqual(s.timeout(ctx(T0)), []);
  assert.deepEqual(kinds(s.setOnline(true, ctx(T0))), ["wake"]);

  const t = T0 + 200_000_000n;
  const send = s.timeout(ctx(t))[0] as { token: number; bytes: Uint8Array };
  s.sent(send.token, true, t, ctx(t));
  const req = decodePacket(send.bytes);
  assert.ok(req.ok);
  const kod = emptyPacket(NtpMode.Server);
  kod.leap = 3;
  kod.stratum = 0;
  kod.refId = 0x44454e59; // "DENY"
  kod.originTime = req.packet.transmitTime;
  kod.receiveTime = kod.transmitTime = instantToNtp64(t);
  const out = s.receive(send.token, encodePacket(kod), t + 1_000_000n, ctx(t));
  assert.deepEqual(kinds(out), ["log", "cancel-wake", "demobilize"]);
  assert.ok(s.denied);
  assert.deepEqual(s.timeout(ctx(t)), []);
  assert.deepEqual(s.setOnline(true, ctx(t)), []);
});

Deno.test("ntpdata says which of the local timestamps were the kernel's, and counts them", () => {
  const s = source();
  s.start(ctx(T0));
  let t = T0 + 200_000_000n;
  for (const [kernelTx, kernelRx] of [[true, false], [false, true], [true, true]]) {
    const send = s.timeout(ctx(t));
    const { token, bytes } = send[0] as { token: number; bytes: Uint8Array };
    s.sent(token, true, t, ctx(t));
    if (kernelTx) s.transmitted(token, t + 5_000n);
    const r = reply(bytes, t);
    s.receive(token, r.bytes, r.rx, ctx(r.rx), kernelRx);
    const d = s.ntpData(r.rx);
    assert.equal(d.txKernel, kernelTx);
    assert.equal(d.rxKernel, kernelRx);
    t += 64_000_000_000n;
  }
  const d = s.ntpData(t);
  assert.equal(d.totalKernelTx, 2);
  assert.equal(d.totalKernelRx, 2);
  assert.equal(d.totalValidRx, 3);
});
