import assert from "node:assert/strict";
import type { ErrorBoundSnapshot } from "../core/error_bound.ts";
import {
  decodeRecord,
  ERROR_BOUND_PAGE_SIZE,
  ErrorBoundWriter,
  readErrorBoundPage,
} from "./error_bound_file.ts";

const snap: ErrorBoundSnapshot = {
  asOf: 1_780_000_000_123_456_789n,
  asOfMonotonic: 12_345_678_901n,
  maxError: 0.00123,
  growthRate: 1.5e-5,
  status: "synchronised",
  leap: 1,
};

Deno.test("the page round-trips through the file, world-readable, 4096 bytes", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/sub/errorbound`;
    const w = ErrorBoundWriter.open(path);
    assert.deepEqual(readErrorBoundPage(path), { ok: false, error: "busy" });
    w.publish(snap);
    assert.deepEqual(readErrorBoundPage(path), { ok: true, snapshot: snap });
    const st = Deno.statSync(path);
    assert.equal(st.size, ERROR_BOUND_PAGE_SIZE);
    assert.equal((st.mode ?? 0) & 0o777, 0o644);
    w.publish({ ...snap, maxError: Infinity, status: "unsynchronised", leap: 3 });
    const r = readErrorBoundPage(path);
    assert.ok(r.ok && r.snapshot.maxError === Infinity && r.snapshot.status === "unsynchronised");
    w.close();
    const c = readErrorBoundPage(path);
    assert.ok(c.ok && c.snapshot.status === "unsynchronised");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("decodeRecord: odd or changed sequence is busy; random bytes never throw", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/eb`;
    const w = ErrorBoundWriter.open(path);
    w.publish(snap);
    w.close();
    const bytes = Deno.readFileSync(path).subarray(0, 56);
    const seq = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8, true);
    assert.ok(decodeRecord(bytes, seq).ok);
    assert.deepEqual(decodeRecord(bytes, seq + 2n), { ok: false, error: "busy" });
    assert.deepEqual(decodeRecord(bytes.subarray(0, 20), seq), { ok: false, error: "short" });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff;
    for (let i = 0; i < 20000; i++) {
      const b = Uint8Array.from({ length: rnd() % 80 }, rnd);
      if (i % 2 === 0 && b.length >= 8) b.set(bytes.subarray(0, 8));
      const r = decodeRecord(b, BigInt(rnd()));
      if (r.ok) assert.ok(r.snapshot.leap >= 0 && r.snapshot.leap <= 3);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
