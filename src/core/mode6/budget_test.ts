import assert from "node:assert/strict";
import { Mode6Budget } from "./budget.ts";

const S = 1_000_000_000n;
const limits = {
  clientBurst: 1000,
  clientRate: 100,
  globalBurst: 2500,
  globalRate: 200,
  maxClients: 3,
};

Deno.test("mode 6 budget: a client gets its burst, then its rate", () => {
  const b = new Mode6Budget(limits);
  assert.equal(b.take("a", 600, 0n), true);
  assert.equal(b.take("a", 600, 0n), false, "400 left");
  assert.equal(b.take("a", 400, 0n), true);
  assert.equal(b.take("a", 100, 0n), false);
  assert.equal(b.take("a", 100, 1n * S), true, "100 octets/s");
  assert.equal(b.take("a", 1, 0n), false, "a step back in time refills nothing");
});

Deno.test("mode 6 budget: the global bucket caps many clients; the table stays bounded", () => {
  const b = new Mode6Budget(limits);
  let sent = 0;
  for (let i = 0; i < 50; i++) if (b.take(`c${i}`, 1000, 0n)) sent += 1000;
  assert.equal(sent, 2000, "2500-octet global burst: two whole answers");
  assert.ok(b.clientCount <= 3);
});
