import assert from "node:assert/strict";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { MAX_TX_DELAY_NS, TxTimestampStore } from "./tx_timestamps.ts";

const T = 1_700_000_000_000_000_000n;

Deno.test("a saved reply's transmit time is handed out once, to its own client", () => {
  const s = new TxTimestampStore(16);
  s.save(0x1001n, "192.0.2.1", T);
  assert.equal(s.take(0x1001n, "192.0.2.9"), null, "another address gets nothing");
  assert.equal(s.take(0x1001n, "192.0.2.1"), T);
  assert.equal(s.take(0x1001n, "192.0.2.1"), null, "a replay gets a basic reply");
  assert.equal(s.stats.interleavedHits, 1);
  assert.equal(s.take(0x2001n, "192.0.2.1"), null, "unknown origin");
});

Deno.test("the kernel timestamp replaces the daemon's only 0..1 s after it", () => {
  const s = new TxTimestampStore(16);
  s.save(0x11n, "a", T);
  assert.equal(s.updateTx(0x11n, T - 1n), false, "before the daemon's: another datagram");
  assert.equal(s.updateTx(0x11n, T + MAX_TX_DELAY_NS + 1n), false, "too late");
  assert.equal(s.isKernel(0x11n), false);
  assert.equal(s.updateTx(0x11n, T + 25_000n), true);
  assert.equal(s.isKernel(0x11n), true);
  assert.equal(s.updateTx(0x11n, T + 30_000n), false, "only the first kernel timestamp");
  assert.equal(s.take(0x11n, "a"), T + 25_000n);
  assert.equal(s.stats.kernelTx, 1);
  assert.equal(s.updateTx(0x99n, T), false, "unknown key");
});

Deno.test("a receive timestamp saved twice is disabled, not overwritten", () => {
  const s = new TxTimestampStore(16);
  s.save(0x21n, "a", T);
  s.save(0x21n, "a", T + 5n);
  assert.equal(s.size, 1);
  assert.equal(s.take(0x21n, "a"), null);
  s.save(0n, "a", T);
  assert.equal(s.size, 1, "a zero key is never saved");
});

Deno.test("the store is bounded and evicts the oldest first", () => {
  const s = new TxTimestampStore(4);
  for (let i = 1n; i <= 10n; i++) s.save(i << 32n, "a", T + i);
  assert.equal(s.size, 4);
  assert.equal(s.stats.evicted, 6);
  assert.equal(s.take(6n << 32n, "a"), null, "evicted");
  assert.equal(s.take(7n << 32n, "a"), T + 7n);
  assert.equal(s.spanSeconds, 3);
});

Deno.test("a clock step clears the store; a slew keeps it", () => {
  const s = new TxTimestampStore(4);
  s.save(0x31n, "a", T);
  s.applyClockChange({ kind: "adjust" });
  assert.equal(s.size, 1);
  s.applyClockChange({ kind: "step" });
  assert.equal(s.size, 0);
  assert.equal(s.spanSeconds, 0);
});

Deno.test("fuzz: random saves, updates and takes never exceed the bound or throw", () => {
  const rnd = seededRandom(14);
  const s = new TxTimestampStore(64);
  const keys: bigint[] = [];
  for (let i = 0; i < 20_000; i++) {
    const op = rnd();
    if (op < 0.5 || keys.length === 0) {
      const k = BigInt(Math.floor(rnd() * 2 ** 32)) << 32n | BigInt(Math.floor(rnd() * 2 ** 32));
      keys.push(k);
      if (keys.length > 200) keys.shift();
      s.save(k, rnd() < 0.5 ? "a" : "b", T + BigInt(i));
    } else if (op < 0.75) {
      s.updateTx(keys[Math.floor(rnd() * keys.length)], T + BigInt(Math.floor(rnd() * 3e9)));
    } else {
      const t = s.take(keys[Math.floor(rnd() * keys.length)], rnd() < 0.5 ? "a" : "b");
      assert.ok(t === null || typeof t === "bigint");
    }
    assert.ok(s.size <= 64);
  }
  assert.ok(Number.isFinite(s.spanSeconds));
});
