import assert from "node:assert/strict";
import { candidate } from "../../../tests/helpers/selection.ts";
import { isStaleUnreachable, staleAndOrphans, type StaleInput } from "./stale.ts";
import type { SelectionCandidate } from "./types.ts";

const NO_ORPHAN = { stratum: null, localRefId: undefined };

function input(over: Partial<SelectionCandidate>, stratum = 2, lastSampleAgo = 10): StaleInput {
  return { cand: candidate(over), stratum, lastSampleAgo, silentReplaced: false };
}

Deno.test("isStaleUnreachable: older data than every reachable source, or past maxunreach", () => {
  const unreachable = candidate({ reachability: 0 });
  assert.equal(isStaleUnreachable(unreachable, 600, 500), true);
  assert.equal(isStaleUnreachable(unreachable, 500, 500), false);
  assert.equal(
    isStaleUnreachable({ ...unreachable, unreachableRun: 11, maxUnreach: 10 }, 1, 500),
    true,
  );
  assert.equal(
    isStaleUnreachable({ ...unreachable, unreachableRun: 10, maxUnreach: 10 }, 1, 500),
    false,
  );
  assert.equal(isStaleUnreachable(candidate({ reachability: 1 }), 600, 500), false);
});

Deno.test("staleAndOrphans: S for stale and silent sources, the rest stay selectable", () => {
  const r = staleAndOrphans(
    [
      input({ id: 1 }),
      input({ id: 2, reachability: 0 }, 2, 900),
      { ...input({ id: 3 }), silentReplaced: true },
    ],
    500,
    NO_ORPHAN,
  );
  assert.deepEqual(r, { status: [null, "S", "S"], promoted: null, selectable: 1 });
});

Deno.test("staleAndOrphans: orphans are O; the smallest reference ID below ours comes back", () => {
  const orphan = { stratum: 5, localRefId: 0x7f7f0101 };
  const inputs = [
    input({ id: 1, refId: 0x0a000002 }, 5),
    input({ id: 2, refId: 0x0a000001 }, 5),
    input({ id: 3, refId: 0x0a000000 }, 6),
    input({ id: 4, refId: 0x09000000, reachability: 0 }, 5),
    input({ id: 5, refId: 0x08000000, isNtp: false }, 5),
  ];
  const r = staleAndOrphans(inputs, 500, orphan);
  assert.deepEqual(r.status, ["O", "O", "O", "O", null]);
  // The reference clock is selectable, so no orphan comes back.
  assert.equal(r.promoted, null);
  assert.equal(r.selectable, 1);
  const alone = staleAndOrphans(inputs.slice(0, 4), 500, orphan);
  assert.equal(alone.promoted, 1, "stratum 5, reachable, smallest ID");
  assert.equal(alone.selectable, 1);
  // Our ID is smaller: we are the orphan root ourselves.
  assert.equal(
    staleAndOrphans(inputs.slice(0, 4), 500, { ...orphan, localRefId: 1 }).promoted,
    null,
  );
  assert.equal(
    staleAndOrphans(inputs.slice(0, 4), 500, { ...orphan, localRefId: undefined }).promoted,
    null,
  );
  // Not in orphan mode: all selectable.
  assert.equal(staleAndOrphans(inputs, 500, NO_ORPHAN).selectable, 5);
});
