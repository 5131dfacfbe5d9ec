import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../../tests/helpers/test_server.ts";
import { resolveHost } from "../io/dns.ts";
import { runSync, type SyncClock, type SyncDeps, toJson } from "./sync.ts";

interface Fake {
  deps: SyncDeps;
  calls: string[];
  out: string[];
  err: string[];
  created: number;
}

function fakeDeps(permission: string | null = null): Fake {
  const fake: Fake = {
    deps: undefined as unknown as SyncDeps,
    calls: [],
    out: [],
    err: [],
    created: 0,
  };
  const clock: SyncClock = {
    stepBy: (s) => fake.calls.push(`step ${s.toFixed(3)}`),
    slewBy: (s) => fake.calls.push(`slew ${s.toFixed(3)}`),
  };
  fake.deps = {
    // A microsecond clock: Date.now()'s milliseconds made the truechimers' intervals miss
    // each other now and then (the replies carry kernel timestamps in nanoseconds).
    now: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n,
    permissionError: () => Promise.resolve(permission),
    createClock: () => {
      fake.created++;
      return Promise.resolve(clock);
    },
    resolve: resolveHost,
    randomFill: (b) => crypto.getRandomValues(b),
    out: (l) => fake.out.push(l),
    err: (l) => fake.err.push(l),
  };
  return fake;
}

function addr(s: TestServer): string {
  return `127.0.0.1:${s.address.port}`;
}

async function withServers(
  offsets: number[],
  body: (servers: TestServer[]) => Promise<void>,
): Promise<void> {
  const servers = offsets.map((o) => startTestServer({ kind: "ok", offsetSeconds: o }));
  try {
    await body(servers);
  } finally {
    for (const s of servers) await s.close();
  }
}

Deno.test("dry run measures but never creates a clock driver", async () => {
  await withServers([2], async ([a]) => {
    const fake = fakeDeps("no permission"); // dry run must not even ask
    const r = await runSync(["--dry-run", addr(a)], fake.deps);
    assert.equal(r.code, 0);
    assert.equal(fake.created, 0);
    assert.equal(r.decision?.action, "none");
    assert.ok(Math.abs((r.selection?.offset ?? 0) - 2) < 0.01);
    assert.equal(a.requests, 4);
  });
});

Deno.test("large offset steps, small offset slews, flags force", async () => {
  await withServers([1.5, 0.05], async ([big, small]) => {
    let fake = fakeDeps();
    assert.equal((await runSync([addr(big)], fake.deps)).code, 0);
    assert.equal(fake.calls.length, 1);
    assert.match(fake.calls[0], /^step 1\.50/);
    fake = fakeDeps();
    await runSync([addr(small)], fake.deps);
    assert.match(fake.calls[0], /^slew 0\.05/);
    fake = fakeDeps();
    await runSync(["--step", addr(small)], fake.deps);
    assert.match(fake.calls[0], /^step 0\.05/);
    fake = fakeDeps();
    await runSync(["--slew", addr(big)], fake.deps);
    assert.match(fake.calls[0], /^slew 1\.50/);
  });
});

Deno.test("a falseticker is outvoted and the rest combined", async () => {
  await withServers([0.3, 0.3, 7], async (servers) => {
    const fake = fakeDeps();
    const r = await runSync(["--json", ...servers.map(addr)], fake.deps);
    assert.equal(r.code, 0);
    assert.match(fake.calls[0], /^step 0\.30/);
    const json = JSON.parse(fake.out[0]);
    const status = json.servers.map((s: { status: string }) => s.status);
    // Both truechimers survive; whether the farther one is also combined depends on the
    // measured delays (combine limit), so only the first must be.
    assert.equal(status[2], "falseticker");
    assert.ok(status.slice(0, 2).every((x: string) => x === "combined" || x === "truechimer"));
    assert.ok(status.includes("combined"));
    assert.equal(toJson(r).applied, true);
  });
});

Deno.test("no majority: nothing is changed, exit 1 with one line", async () => {
  await withServers([0, 5], async (servers) => {
    const fake = fakeDeps();
    const r = await runSync(servers.map(addr), fake.deps);
    assert.equal(r.code, 1);
    assert.equal(fake.created, 0);
    assert.equal(fake.err.length, 1);
    assert.match(fake.err[0], /no majority/);
  });
});

Deno.test("KoD servers are dropped; DENY stops after one request", async () => {
  const deny = startTestServer({ kind: "kod", code: "DENY" });
  const rate = startTestServer({ kind: "kod", code: "RATE" });
  const good = startTestServer({ kind: "ok", offsetSeconds: 0.01 });
  try {
    const fake = fakeDeps();
    const r = await runSync(["--dry-run", addr(deny), addr(rate), addr(good)], fake.deps);
    assert.equal(r.code, 0);
    assert.equal(deny.requests, 1);
    assert.equal(rate.requests, 1);
    assert.equal(r.servers[0].kod?.code, "DENY");
    assert.equal(r.servers[1].kod?.code, "RATE");
    assert.deepEqual(r.selection?.combined, [addr(good)]);
    assert.ok(fake.out.some((l) => l.includes("Kiss-o'-Death RATE")));
  } finally {
    await deny.close();
    await rate.close();
    await good.close();
  }
});

Deno.test("samples taken before a RATE kiss stay usable; no request after it", async () => {
  const server = startTestServer({ kind: "ok", offsetSeconds: 0.02, kissAfter: 2, kiss: "RATE" });
  try {
    const fake = fakeDeps();
    const r = await runSync(["--dry-run", "--json", addr(server)], fake.deps);
    assert.equal(r.code, 0);
    assert.equal(server.requests, 3);
    assert.equal(r.servers[0].samples.length, 2);
    assert.equal(r.servers[0].kod?.code, "RATE");
    assert.equal(JSON.parse(fake.out[0]).servers[0].status, "combined");
  } finally {
    await server.close();
  }
});

Deno.test("missing permission fails before any request, with the driver's message", async () => {
  await withServers([0], async ([a]) => {
    const fake = fakeDeps("tempus needs root or CAP_SYS_TIME to set the clock");
    const r = await runSync([addr(a)], fake.deps);
    assert.equal(r.code, 1);
    assert.equal(a.requests, 0);
    assert.match(fake.err[0], /CAP_SYS_TIME/);
  });
});

Deno.test("silent and garbage servers: exit 1 within the timeout", async () => {
  const silent = startTestServer({ kind: "silent" });
  const garbage = startTestServer({ kind: "garbage" });
  try {
    const fake = fakeDeps();
    const start = Date.now();
    const r = await runSync(["--timeout", "0.3", addr(silent), addr(garbage)], fake.deps);
    assert.ok(Date.now() - start < 1500);
    assert.equal(r.code, 1);
    assert.equal(fake.created, 0);
    assert.match(fake.err.at(-1) ?? "", /no usable reply/);
    assert.ok(r.servers[1].rejected.length > 0);
  } finally {
    await silent.close();
    await garbage.close();
  }
});

Deno.test("usage errors exit 2", async () => {
  const fake = fakeDeps();
  assert.equal((await runSync(["--step", "--slew"], fake.deps)).code, 2);
  assert.equal((await runSync(["--samples", "0"], fake.deps)).code, 2);
  assert.equal((await runSync(["--bogus"], fake.deps)).code, 2);
});
