import assert from "node:assert/strict";
import { joinHostPort, resolveHost, splitHostPort } from "./dns.ts";

Deno.test("literals short-circuit without a lookup", async () => {
  assert.deepEqual(await resolveHost("192.0.2.7"), { ok: true, addresses: ["192.0.2.7"] });
  assert.deepEqual(await resolveHost("[::1]"), { ok: true, addresses: ["::1"] });
  const wrong = await resolveHost("::1", { family: "ipv4" });
  assert.equal(wrong.ok, false);
});

Deno.test("invalid names give one clear line", async () => {
  const r = await resolveHost("bad name!");
  assert.ok(!r.ok);
  assert.match(r.error, /not a valid host name/);
  assert.ok(!r.error.includes("\n"));
});

Deno.test("localhost resolves (hosts file fallback)", async () => {
  const r = await resolveHost("localhost", { timeoutMs: 2000 });
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.ok(r.addresses.includes("127.0.0.1") || r.addresses.includes("::1"));
});

Deno.test("host:port splitting, IPv6 in brackets", () => {
  assert.deepEqual(splitHostPort("ntp.example", 123), { host: "ntp.example", port: 123 });
  assert.deepEqual(splitHostPort("10.0.0.1:1123", 123), { host: "10.0.0.1", port: 1123 });
  assert.deepEqual(splitHostPort("[::1]:123", 1), { host: "::1", port: 123 });
  assert.deepEqual(splitHostPort("[::1]", 123), { host: "::1", port: 123 });
  assert.deepEqual(splitHostPort("fe80::1", 123), { host: "fe80::1", port: 123 });
  assert.equal(splitHostPort("host:0", 123), null);
  assert.equal(splitHostPort("host:99999", 123), null);
  assert.equal(splitHostPort("[::1", 123), null);
  assert.equal(splitHostPort("[::1]x", 123), null);
});

Deno.test("joinHostPort brackets IPv6 and round-trips through splitHostPort", () => {
  assert.equal(joinHostPort("192.0.2.1", 123), "192.0.2.1:123");
  assert.equal(joinHostPort("::1", 1123), "[::1]:1123");
  assert.deepEqual(splitHostPort(joinHostPort("2001:db8::1", 4123), 123), {
    host: "2001:db8::1",
    port: 4123,
  });
});
