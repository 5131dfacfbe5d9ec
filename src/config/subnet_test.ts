import assert from "node:assert/strict";
import { canonicalIp, parseIpAddress, parseSubnet } from "./subnet.ts";
import { formatIpAddress, parseIpv6 } from "../base/ip.ts";
import { parseSubnet as coreParseSubnet } from "../core/access.ts";

Deno.test("parseSubnet: chrony's IPv4 forms", () => {
  const cases: [string, string][] = [
    ["1.2.3.4", "1.2.3.4/32"],
    ["3.4.5", "3.4.5.0/24"],
    ["10", "10.0.0.0/8"],
    ["192.168/16", "192.168.0.0/16"],
    ["0/0", "0.0.0.0/0"],
    ["1.2.3.4/24", "1.2.3.0/24"],
    ["1.2.3.4/31", "1.2.3.4/31"],
    ["255.255.255.255/1", "128.0.0.0/1"],
  ];
  for (const [input, expected] of cases) {
    const r = parseSubnet(input);
    assert.ok(r.ok, input);
    assert.equal(r.value, expected, input);
  }
});

Deno.test("parseSubnet: IPv6", () => {
  const cases: [string, string][] = [
    ["::/0", "::/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1/128"],
    ["2001:db8::ff/120", "2001:db8::/120"],
    ["::ffff:192.0.2.1", "::ffff:c000:201/128"],
  ];
  for (const [input, expected] of cases) {
    const r = parseSubnet(input);
    assert.ok(r.ok, input);
    assert.equal(r.value, expected, input);
  }
});

Deno.test("parseSubnet: refuses bad input with a message", () => {
  for (
    const bad of [
      "",
      "1.2.3.4.5",
      "256.1.1.1",
      "1.2.3.4/33",
      "::/129",
      "1.2.3.4/x",
      "host.example",
      ":::",
      "1::2::3",
      "01.2.3.4",
    ]
  ) {
    const r = parseSubnet(bad);
    assert.equal(r.ok, false, bad);
  }
});

Deno.test("IPv6 formatting follows RFC 5952", () => {
  assert.equal(canonicalIp("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  assert.equal(canonicalIp("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  assert.equal(canonicalIp("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  assert.equal(canonicalIp("::"), "::");
  assert.equal(canonicalIp("::1"), "::1");
  assert.equal(canonicalIp("1::"), "1::");
  assert.equal(canonicalIp("not-an-ip"), null);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), null);
  const a = parseIpAddress("192.0.2.7");
  assert.ok(a);
  assert.equal(formatIpAddress(a), "192.0.2.7");
});

Deno.test("every normalised subnet is accepted by the engine's access table", () => {
  for (
    const s of [
      "1.2.3.4",
      "3.4.5",
      "192.168/16",
      "0/0",
      "::/0",
      "2001:db8::/32",
      "10",
      "::ffff:192.0.2.1",
      "2001:db8::ff/120",
    ]
  ) {
    const r = parseSubnet(s);
    assert.ok(r.ok, s);
    assert.notEqual(coreParseSubnet(r.value), null, `${s} -> ${r.value}`);
  }
  assert.notEqual(coreParseSubnet("all"), null);
});
