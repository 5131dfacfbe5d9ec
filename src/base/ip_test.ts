import assert from "node:assert/strict";
import {
  canonicalIp,
  clearHostBits,
  ipFamily,
  parseIpSubnet,
  parseIpv4,
  parseIpv6,
  sameIpAddress,
} from "./ip.ts";

Deno.test("IPv4 literals", () => {
  assert.deepEqual(parseIpv4("192.0.2.10"), Uint8Array.of(192, 0, 2, 10));
  assert.equal(parseIpv4("256.0.0.1"), null);
  assert.equal(parseIpv4("1.2.3"), null);
  assert.equal(parseIpv4("1.2.3.x"), null);
});

Deno.test("IPv6 literals with ::, embedded IPv4 and zone", () => {
  const loop = new Uint8Array(16);
  loop[15] = 1;
  assert.deepEqual(parseIpv6("::1"), loop);
  assert.deepEqual(parseIpv6("fe80::1%eth0")?.slice(0, 2), Uint8Array.of(0xfe, 0x80));
  assert.deepEqual(parseIpv6("::ffff:192.0.2.1")?.slice(10), Uint8Array.of(255, 255, 192, 0, 2, 1));
  assert.deepEqual(parseIpv6("2001:db8:0:0:0:0:0:2"), parseIpv6("2001:db8::2"));
  assert.equal(parseIpv6("1::2::3"), null);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), null);
  assert.equal(parseIpv6("12345::"), null);
  assert.equal(parseIpv6("pool.ntp.org"), null);
  assert.equal(ipFamily("::"), 6);
  assert.equal(ipFamily("10.0.0.1"), 4);
  assert.equal(ipFamily("example.com"), null);
});

Deno.test("strict parsing refuses leading zeros and zones; subnets in chrony's forms", () => {
  assert.deepEqual(parseIpv4("01.2.3.4"), Uint8Array.of(1, 2, 3, 4));
  assert.equal(parseIpv4("01.2.3.4", { strict: true }), null);
  assert.equal(parseIpv6("fe80::1%eth0", { strict: true }), null);
  assert.equal(canonicalIp("2001:0DB8::0:1"), "2001:db8::1");
  const s = parseIpSubnet("192.168/16");
  assert.ok(s.ok);
  assert.deepEqual(s.value, { family: 4, bytes: Uint8Array.of(192, 168, 0, 0), prefix: 16 });
  assert.deepEqual(parseIpSubnet("::/129"), { ok: false, error: "prefix-too-long" });
  assert.deepEqual(parseIpSubnet("1.2.3.4/x"), { ok: false, error: "invalid-prefix" });
  assert.deepEqual(parseIpSubnet("host.example"), { ok: false, error: "invalid-address" });
  assert.deepEqual(clearHostBits(Uint8Array.of(10, 1, 2, 3), 12), Uint8Array.of(10, 0, 0, 0));
});

Deno.test("sameIpAddress: by value, IPv4-mapped as IPv4, brackets ignored", () => {
  assert.ok(sameIpAddress("2001:DB8::1", "2001:db8:0::1"));
  assert.ok(sameIpAddress("::ffff:192.0.2.1", "192.0.2.1"));
  assert.ok(sameIpAddress("[::1]", "::1"));
  assert.ok(sameIpAddress("Host.Example", "host.example"));
  assert.ok(!sameIpAddress("192.0.2.1", "192.0.2.2"));
  assert.ok(!sameIpAddress("::1", "127.0.0.1"));
});
