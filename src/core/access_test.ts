import assert from "node:assert/strict";
import { AccessTable, parseSubnet } from "./access.ts";

type Op = [allow: boolean, subnet: string, all?: boolean];

/** Each case: rules in order, then addresses expected allowed and denied. */
const CASES: { name: string; rules: Op[]; allowed: string[]; denied: string[] }[] = [
  {
    name: "default serves nobody",
    rules: [],
    allowed: [],
    denied: ["1.2.3.4", "127.0.0.1", "::1", "2001:db8::1"],
  },
  {
    name: "bare address is a /32",
    rules: [[true, "1.2.3.4"]],
    allowed: ["1.2.3.4"],
    denied: ["1.2.3.5", "1.2.3.3", "::1"],
  },
  {
    name: "chrony example 1 (most specific wins)",
    rules: [[true, "1.2.3.4"], [false, "1.2.3.0/24"], [true, "1.2.0.0/16"]],
    allowed: ["1.2.3.4", "1.2.4.1", "1.2.255.255", "1.2.0.0"],
    denied: ["1.2.3.5", "1.2.3.0", "1.3.0.1", "1.1.255.255"],
  },
  {
    name: "chrony example 1 in another order gives the same",
    rules: [[true, "1.2.0.0/16"], [false, "1.2.3.0/24"], [true, "1.2.3.4"]],
    allowed: ["1.2.3.4", "1.2.4.1"],
    denied: ["1.2.3.5", "1.3.0.1"],
  },
  {
    name: "chrony example 2 (allow all overrides earlier specifics)",
    rules: [[true, "1.2.3.4"], [false, "1.2.3.0/24"], [true, "1.2.0.0/16", true]],
    allowed: ["1.2.3.4", "1.2.3.5", "1.2.200.1"],
    denied: ["1.3.0.1"],
  },
  {
    name: "deny all overrides earlier allows",
    rules: [[true, "0/0"], [true, "10.1.2.3"], [false, "10.0.0.0/8", true]],
    allowed: ["11.0.0.1", "9.255.255.255"],
    denied: ["10.1.2.3", "10.0.0.1"],
  },
  {
    name: "short dotted forms",
    rules: [[true, "1.2.3"], [true, "10"]],
    allowed: ["1.2.3.0", "1.2.3.255", "10.99.1.1"],
    denied: ["1.2.4.1", "11.0.0.1"],
  },
  {
    name: "0/0 is all IPv4 only",
    rules: [[true, "0/0"]],
    allowed: ["0.0.0.0", "255.255.255.255", "::ffff:8.8.8.8"],
    denied: ["::1", "2001:db8::1"],
  },
  {
    name: "::/0 is all IPv6 only",
    rules: [[true, "::/0"]],
    allowed: ["::1", "2001:db8::1", "fe80::1%eth0"],
    denied: ["1.2.3.4"],
  },
  {
    name: "bare allow is everything",
    rules: [[true, ""]],
    allowed: ["1.2.3.4", "::1", "fd00::5"],
    denied: ["not-an-address", ""],
  },
  {
    name: "prefix not a multiple of 4",
    rules: [[true, "10.0.0.0/9"]],
    allowed: ["10.0.0.1", "10.127.255.255"],
    denied: ["10.128.0.0", "11.0.0.0"],
  },
  {
    name: "same table level: the later rule wins (allow /25 then deny /28)",
    rules: [[true, "1.2.3.0/25"], [false, "1.2.3.0/28"]],
    allowed: ["1.2.3.16", "1.2.3.127"],
    denied: ["1.2.3.5", "1.2.3.128"],
  },
  {
    name: "same table level: the later rule wins (deny /28 then allow /25)",
    rules: [[false, "1.2.3.0/28"], [true, "1.2.3.0/25"]],
    allowed: ["1.2.3.5", "1.2.3.16"],
    denied: ["1.2.3.128"],
  },
  {
    name: "different table levels: the deeper rule wins whatever the order",
    rules: [[true, "1.2.3.0/29"], [false, "1.2.3.0/28"]],
    allowed: ["1.2.3.5", "1.2.3.7"],
    denied: ["1.2.3.8", "1.2.3.15"],
  },
  {
    name: "IPv6 subnets",
    rules: [[true, "2001:db8::/32"], [false, "2001:db8:1::/48"], [true, "2001:db8:1::7"]],
    allowed: ["2001:db8::1", "2001:db8:2::1", "2001:db8:1::7", "2001:0db8:0000::1"],
    denied: ["2001:db8:1::1", "2001:db9::1", "1.2.3.4"],
  },
  {
    name: "IPv4-mapped IPv6 is checked as IPv4",
    rules: [[true, "192.0.2.0/24"]],
    allowed: ["192.0.2.1", "::ffff:192.0.2.77", "::ffff:c000:0201"],
    denied: ["::ffff:192.0.3.1", "64:ff9b::192.0.2.1"],
  },
  {
    name: "config's normalised 'all' subnet",
    rules: [[true, "all"], [false, "172.16.0.0/12"]],
    allowed: ["8.8.8.8", "172.32.0.1", "::2"],
    denied: ["172.16.0.1", "172.31.255.255"],
  },
];

for (const c of CASES) {
  Deno.test(`access: ${c.name}`, () => {
    const table = new AccessTable(c.rules.map(([allow, subnet, all]) => ({
      allow,
      subnet,
      all: all ?? false,
    })));
    for (const a of c.allowed) assert.equal(table.isAllowed(a), true, `${a} should be allowed`);
    for (const a of c.denied) assert.equal(table.isAllowed(a), false, `${a} should be denied`);
  });
}

Deno.test("access: command table always allows loopback", () => {
  const t = new AccessTable([{ allow: false, subnet: "all", all: true }], {
    loopbackAlwaysAllowed: true,
  });
  assert.equal(t.isAllowed("127.0.0.1"), true);
  assert.equal(t.isAllowed("127.1.2.3"), true);
  assert.equal(t.isAllowed("::1"), true);
  assert.equal(t.isAllowed("::ffff:127.0.0.1"), true);
  assert.equal(t.isAllowed("10.0.0.1"), false);
  assert.equal(t.isAllowed("::2"), false);
  const ntp = new AccessTable();
  assert.equal(ntp.isAllowed("127.0.0.1"), false);
});

Deno.test("access: run-time allow/deny/remove/clear (chronyc)", () => {
  const t = new AccessTable();
  assert.deepEqual(t.allow("192.168.0.0/16"), { ok: true });
  assert.equal(t.isAllowed("192.168.5.5"), true);
  assert.deepEqual(t.deny("192.168.5"), { ok: true });
  assert.equal(t.isAllowed("192.168.5.5"), false);
  assert.deepEqual(t.removeRule("192.168.5.0/24"), { ok: true });
  assert.equal(t.isAllowed("192.168.5.5"), true);
  t.deny("192.168.5.0/24");
  t.allow("192.168.0.0/16", true);
  assert.equal(t.isAllowed("192.168.5.5"), true, "allow all clears the deny beneath it");
  t.allow();
  assert.equal(t.isAllowed("2001:db8::1"), true);
  t.deny("", true);
  assert.equal(t.isAllowed("192.168.5.5"), false);
  assert.equal(t.isAllowed("2001:db8::1"), false);
  t.allow("10.0.0.0/8");
  t.clear();
  assert.equal(t.isAllowed("10.0.0.1"), false);
});

Deno.test("access: bad subnets are rejected with an error", () => {
  const t = new AccessTable();
  for (const bad of ["example.com", "1.2.3.4/33", "::/129", "1.2.3.256", "1..2", "1.2/x"]) {
    const r = t.allow(bad);
    assert.equal(r.ok, false, bad);
  }
  const { table, errors } = AccessTable.fromRules([
    { allow: true, subnet: "10.0.0.0/8", all: false },
    { allow: true, subnet: "host.example", all: false },
  ]);
  assert.equal(errors.length, 1);
  assert.equal(table.isAllowed("10.1.1.1"), true);
});

Deno.test("access: parseSubnet forms", () => {
  assert.deepEqual(parseSubnet("1.2.3"), { bytes: new Uint8Array([1, 2, 3, 0]), prefix: 24 });
  assert.deepEqual(parseSubnet("0/0"), { bytes: new Uint8Array(4), prefix: 0 });
  assert.equal(parseSubnet("2001:db8::/32")?.prefix, 32);
  assert.equal(parseSubnet("::1")?.prefix, 128);
  assert.deepEqual(parseSubnet(""), { bytes: null, prefix: 0 });
  assert.equal(parseSubnet("1:2:3"), null);
});

Deno.test("ipv4Prefixes: the longest matching prefix gives the table's verdict", () => {
  const table = new AccessTable([
    { allow: true, subnet: "10.0.0.0/8", all: false },
    { allow: false, subnet: "10.1.0.0/16", all: false },
    { allow: true, subnet: "10.1.2.0/23", all: false },
    { allow: false, subnet: "10.1.2.3", all: false },
    { allow: true, subnet: "192.168.0.0/18", all: false },
    { allow: true, subnet: "::/0", all: false },
  ]);
  table.deny("192.168.0.0/20", true);
  const prefixes = table.ipv4Prefixes();
  assert.equal(prefixes[0].prefix, 0); // the root's own state
  const verdict = (bytes: Uint8Array) => {
    let best: { prefix: number; allow: boolean } | null = null;
    for (const p of prefixes) {
      const whole = p.prefix >> 3;
      const rest = p.prefix & 7;
      let match = bytes.subarray(0, whole).every((b, i) => b === p.bytes[i]);
      if (match && rest > 0) {
        const mask = (0xff << (8 - rest)) & 0xff;
        match = (bytes[whole] & mask) === (p.bytes[whole] & mask);
      }
      if (match && (best === null || p.prefix > best.prefix)) best = p;
    }
    return best?.allow ?? false;
  };
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const probes = [[10, 1, 2, 3], [10, 1, 3, 9], [10, 1, 4, 1], [10, 9, 9, 9], [192, 168, 15, 1], [
    192,
    168,
    16,
    1,
  ], [8, 8, 8, 8]];
  for (let i = 0; i < 2000; i++) {
    const first = [10, 192, next()][i % 3];
    probes.push([first, i % 2 === 0 ? 168 : next() & 3, next(), next()]);
  }
  for (const p of probes) {
    const bytes = Uint8Array.from(p);
    assert.equal(verdict(bytes), table.isAllowedBytes(bytes), p.join("."));
  }
});
