import assert from "node:assert/strict";
import type { Instant } from "../base/time.ts";
import type { TxTimestampStore } from "../core/serve/tx_timestamps.ts";
import type { KernelSocket } from "./kernel_socket.ts";
import { SeededRandom } from "../../tests/helpers/discipline_testing.ts";
import { collectTxTimestamps } from "./server_tx_timestamps.ts";

type Report = { payload: Uint8Array | null; cook: () => Instant | null };

/** A socket whose error queue holds `reports` (only readTxFrame is used). */
function socketWith(reports: Report[]): KernelSocket {
  const queue = [...reports];
  return { readTxFrame: () => queue.shift() ?? null } as unknown as KernelSocket;
}

function ntp(mode: number, fill: number): Uint8Array {
  const p = new Uint8Array(48).fill(fill);
  p[0] = 0x20 | mode;
  return p;
}

const TX: Instant = 1_800_000_000_000_000_000n;

Deno.test("server tx timestamps: mode 1 reports go to the peers, mode 4 to the store", () => {
  const peers: [Uint8Array, Instant][] = [];
  const stored: bigint[] = [];
  const store = {
    wants: () => true,
    updateTx: (key: bigint) => (stored.push(key), true),
  } as unknown as TxTimestampStore;
  const sock = socketWith([
    { payload: ntp(1, 7), cook: () => TX },
    { payload: ntp(4, 9), cook: () => TX + 1n },
    { payload: ntp(1, 8), cook: () => null }, // no kernel time: nothing to report
    { payload: null, cook: () => TX },
  ]);
  collectTxTimestamps(sock, store, null, (p, tx) => peers.push([p, tx]));
  assert.equal(peers.length, 1);
  assert.equal(peers[0][0][1], 7);
  assert.equal(peers[0][1], TX);
  assert.equal(stored.length, 1, "the server reply went to the store only");
  // Without a peer sink (no xleave peer) mode 1 reports are dropped, the store still fed.
  const sock2 = socketWith([{ payload: ntp(1, 7), cook: () => TX }]);
  collectTxTimestamps(sock2, store, null);
  assert.equal(stored.length, 1, "a mode 1 report is never taken for a server reply");
});

Deno.test("server tx timestamps fuzz: random frames never throw, only mode 1 reaches peers", () => {
  const rng = new SeededRandom(11);
  const reports: Report[] = [];
  for (let i = 0; i < 5000; i++) {
    const n = Math.floor(rng.next() * 80);
    const payload = rng.next() < 0.1
      ? null
      : Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
    reports.push({ payload, cook: () => (rng.next() < 0.5 ? null : TX) });
  }
  const store = { wants: () => false, updateTx: () => false } as unknown as TxTimestampStore;
  let seen = 0;
  for (let drained = 0; drained < 10; drained++) {
    collectTxTimestamps(socketWith(reports.splice(0, 1024)), store, null, (p) => {
      assert.ok(p.length >= 48 && (p[0] & 7) === 1);
      seen++;
    });
  }
  assert.ok(seen > 0);
});
