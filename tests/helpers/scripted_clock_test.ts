import assert from "node:assert/strict";
import { scriptedClock } from "./scripted_clock.ts";
import { scriptedReply, startScriptedServer } from "./scripted_server.ts";
import { kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";

function near(actual: number, expected: number, tolerance: number): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} not within ${tolerance} of ${expected}`,
  );
}

Deno.test("scripted clock: offset and frequency with a step", () => {
  const c = scriptedClock({ offsetS: 0.002, freqPpm: 5, steps: [{ atS: 10, freqPpm: -3 }] });
  near(c.offsetAt(0), 0.002, 1e-15);
  near(c.offsetAt(-5), 0.002, 1e-15);
  assert.equal(c.freqAt(9.99), 5);
  assert.equal(c.freqAt(10), -3);
  near(c.offsetAt(10), 0.002 + 50e-6, 1e-12);
  near(c.offsetAt(30), 0.002 + 50e-6 - 60e-6, 1e-12);
});

Deno.test("scripted clock: the offset is the integral of the frequency (wander, steps)", () => {
  const c = scriptedClock({
    freqPpm: 1,
    steps: [{ atS: 7.5, freqPpm: 9 }, { atS: 3.25, freqPpm: -2 }],
    wanderPpmPerSqrtS: 0.5,
    seed: 7,
    horizonS: 100,
  });
  let integral = 0;
  const dt = 0.001;
  for (let i = 0; i < 60_000; i++) integral += c.freqAt((i + 0.5) * dt) * 1e-6 * dt;
  // Midpoint sums miss at most dt × the frequency jump at each of the two steps.
  near(c.offsetAt(60), integral, 3e-8);
  // Continuous across steps and grid cells.
  for (const t of [3.25, 7.5, 12, 13]) {
    near(c.offsetAt(t - 1e-9), c.offsetAt(t + 1e-9), 1e-12);
  }
  // The wander moves the frequency, reproducibly from its seed.
  const again = scriptedClock({
    freqPpm: 1,
    steps: [{ atS: 7.5, freqPpm: 9 }, { atS: 3.25, freqPpm: -2 }],
    wanderPpmPerSqrtS: 0.5,
    seed: 7,
    horizonS: 100,
  });
  assert.equal(again.offsetAt(42.5), c.offsetAt(42.5));
  assert.ok(Math.abs(c.freqAt(50) - 9) > 1e-6);
});

Deno.test("scripted clock: rejects figures that are not finite", () => {
  assert.throws(() => scriptedClock({ freqPpm: NaN }), RangeError);
  assert.throws(() => scriptedClock({ wanderPpmPerSqrtS: -1 }), RangeError);
});

Deno.test("scripted server: reply fields", () => {
  const req = new Uint8Array(48);
  req[0] = (4 << 3) | 3;
  new DataView(req.buffer).setBigUint64(40, 0x1234_5678_9abc_def0n);
  const r = scriptedReply(req, 1_000_000_000n, 2_000_000_000n)!;
  const v = new DataView(r.buffer);
  assert.equal(r[0], (4 << 3) | 4);
  assert.equal(r[1], 1);
  assert.equal(v.getBigUint64(24), 0x1234_5678_9abc_def0n);
  assert.equal(v.getBigUint64(32) >> 32n, 2_208_988_801n);
  assert.equal(v.getBigUint64(40) >> 32n, 2_208_988_802n);
  req[0] = (4 << 3) | 4;
  assert.equal(scriptedReply(req, 0n, 0n), null);
  assert.equal(scriptedReply(new Uint8Array(47), 0n, 0n), null);
});

Deno.test({
  name: "scripted server: serves host time plus the scripted offset",
  ignore: !kernelTimestampSocketsAvailable(),
  async fn() {
    const server = startScriptedServer(scriptedClock({ offsetS: 0.25, freqPpm: 100 }));
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const req = new Uint8Array(48);
      req[0] = (4 << 3) | 3;
      const before = server.hostNow();
      await conn.send(req, { transport: "udp", hostname: "127.0.0.1", port: server.port });
      const [reply] = await conn.receive();
      const after = server.hostNow();
      const tx = new DataView(reply.buffer, reply.byteOffset).getBigUint64(40);
      const txUnixS = Number(tx >> 32n) - 2_208_988_800 + Number(tx & 0xffff_ffffn) / 2 ** 32;
      const hostMidS = Number((before + after) / 2n) / 1e9;
      // 0.25 s plus 100 ppm of the few ms since the origin; the exchange takes under 200 ms.
      near(txUnixS - hostMidS, 0.25, 0.1);
      assert.equal(server.answered(), 1);
    } finally {
      conn.close();
      server.close();
    }
  },
});
