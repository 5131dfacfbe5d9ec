import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { renderConfig } from "./render.ts";
import { parseTomlConfig } from "./toml.ts";
import { isMulticastAddress } from "./directives_broadcast.ts";

const CONF = [
  "broadcast 64 192.0.2.255",
  "broadcast 16 224.0.1.1 1123 key 5 ttl 4",
  "broadcast 8 ff05::101 ttl 2",
  "broadcastclient novolley",
  "multicastclient 224.0.1.1 ff05::101 unauthenticated maxsources 3",
  "broadcastdelay 0.008",
  "manycastserver 224.0.1.1",
  "manycastclient 239.1.2.3 key 7 maxsources 5 minpoll 3 iburst",
].join("\n") + "\n";

const TOML = `
[broadcast]
broadcast = ["64 192.0.2.255", "16 224.0.1.1 1123 key 5 ttl 4", "8 ff05::101 ttl 2"]
broadcastclient = ["novolley"]
multicastclient = ["224.0.1.1 ff05::101 unauthenticated maxsources 3"]
broadcastdelay = 0.008
manycastserver = ["224.0.1.1"]
manycastclient = ["239.1.2.3 key 7 maxsources 5 minpoll 3 iburst"]
`;

Deno.test("broadcast directives: chrony.conf and TOML give the same config", () => {
  const conf = parseChronyConfText(CONF, "t.conf");
  assert.ok(conf.ok, conf.ok ? "" : JSON.stringify(conf.errors));
  const toml = parseTomlConfig(TOML, "t.toml");
  assert.ok(toml.ok, toml.ok ? "" : JSON.stringify(toml.errors));
  for (const c of [conf.config, toml.config]) {
    const b = c.broadcast!;
    assert.deepEqual(b.targets, [
      { interval: 64, address: "192.0.2.255", port: 123, key: null, ttl: 1 },
      { interval: 16, address: "224.0.1.1", port: 1123, key: 5, ttl: 4 },
      { interval: 8, address: "ff05::101", port: 123, key: null, ttl: 2 },
    ]);
    assert.deepEqual(b.client, {
      broadcast: true,
      groups: ["224.0.1.1", "ff05::101"],
      unauthenticated: true,
      novolley: true,
      maxSources: 3,
    });
    assert.equal(b.delay, 0.008);
    assert.deepEqual(b.manycastServers, ["224.0.1.1"]);
    assert.equal(b.manycastClients.length, 1);
    const m = b.manycastClients[0];
    assert.equal(m.group, "239.1.2.3");
    assert.equal(m.params.key, 7);
    assert.equal(m.params.maxSources, 5);
    assert.equal(m.params.minPoll, 3);
    assert.equal(m.params.iburst, true);
  }
});

Deno.test("broadcast directives: config check prints them and they parse back the same", () => {
  const conf = parseChronyConfText(CONF, "t.conf");
  assert.ok(conf.ok);
  const text = renderConfig(conf.config);
  assert.match(text, /^# Broadcast, multicast and manycast$/m);
  assert.match(text, /^broadcast 16 224\.0\.1\.1 1123 key 5 ttl 4$/m);
  assert.match(text, /^broadcastclient unauthenticated novolley maxsources 3$/m);
  assert.match(text, /^multicastclient 224\.0\.1\.1 ff05::101$/m);
  assert.match(text, /^manycastclient 239\.1\.2\.3 .*key 7/m);
  const again = parseChronyConfText(text, "rendered.conf");
  assert.ok(again.ok, again.ok ? "" : JSON.stringify(again.errors));
  assert.deepEqual(again.config.broadcast, conf.config.broadcast);
  // Without any of them, nothing is printed.
  const plain = parseChronyConfText("server 192.0.2.1\n", "p.conf");
  assert.ok(plain.ok);
  assert.doesNotMatch(renderConfig(plain.config), /broadcast/);
});

Deno.test("multicastclient without an address joins 224.0.1.1 (ntpd's default)", () => {
  const conf = parseChronyConfText("multicastclient\n", "t.conf");
  assert.ok(conf.ok);
  assert.deepEqual(conf.config.broadcast?.client?.groups, ["224.0.1.1"]);
  assert.equal(conf.config.broadcast?.client?.broadcast, false);
  assert.equal(conf.config.broadcast?.client?.unauthenticated, false);
});

Deno.test("bad broadcast directives are errors that name the directive", () => {
  for (
    const [line, message] of [
      ["broadcast", /broadcast: missing/],
      ["broadcast 0 192.0.2.255", /broadcast interval/],
      ["broadcast 64 host.example", /broadcast: invalid address/],
      ["broadcast 64 192.0.2.255 70000", /broadcast port/],
      ["broadcast 64 192.0.2.255 key", /broadcast: missing key/],
      ["broadcast 64 192.0.2.255 ttl 3", /ttl applies to multicast/],
      ["broadcast 64 224.0.1.1 ttl 300", /broadcast ttl/],
      ["broadcast 64 192.0.2.255 123 xleave", /broadcast: unknown option 'xleave'/],
      ["broadcastclient maxsources 0", /broadcastclient maxsources/],
      ["broadcastclient autokey", /broadcastclient: unknown option 'autokey'/],
      ["multicastclient 192.0.2.1", /multicastclient: '192\.0\.2\.1' is not a multicast/],
      ["broadcastdelay 2", /broadcastdelay delay/],
      ["manycastserver", /manycastserver: missing/],
      ["manycastserver 10.0.0.1", /not a multicast address/],
      ["manycastclient 192.0.2.1", /manycastclient: '192\.0\.2\.1' is not a multicast/],
      ["manycastclient 224.0.1.1 nts", /manycastclient: option 'nts' is not supported/],
    ] as const
  ) {
    const r = parseChronyConfText(`${line}\n`, "t.conf");
    assert.ok(!r.ok, `${line} was accepted`);
    assert.match(r.errors.map((e) => e.message).join("\n"), message, line);
  }
});

Deno.test("isMulticastAddress: 224.0.0.0/4 and ff00::/8 only", () => {
  for (const a of ["224.0.1.1", "239.255.255.255", "ff05::101", "ff02::1"]) {
    assert.ok(isMulticastAddress(a), a);
  }
  for (const a of ["223.255.255.255", "240.0.0.1", "fe80::1", "::1", "x"]) {
    assert.ok(!isMulticastAddress(a), a);
  }
});

Deno.test("config check: a broadcast or manycastclient key missing from the keyfile is an error", async () => {
  const { checkStartup } = await import("../daemon/startup_checks.ts");
  const conf = parseChronyConfText(
    "keyfile /k\nbroadcast 64 224.0.1.1 key 9\nmanycastclient 224.0.1.1 key 1\n",
    "t.conf",
  );
  assert.ok(conf.ok);
  const r = checkStartup(conf.config, null, {
    readText: () => "1 SHA1 HEX:1234567890ABCDEF1234567890ABCDEF12345678\n",
  });
  assert.deepEqual(r.errors.filter((e) => /broadcast|manycast/.test(e)), [
    "broadcast 224.0.1.1 uses key 9, but not in the keyfile",
  ]);
});

Deno.test("config check: broadcast needs the NTP port; a unicast bindaddress gets a warning", async () => {
  const { checkStartup } = await import("../daemon/startup_checks.ts");
  const closed = parseChronyConfText("port 0\nbroadcast 64 192.0.2.255\nbroadcastclient\n", "t");
  assert.ok(closed.ok);
  const r = checkStartup(closed.config, null);
  assert.ok(r.errors.includes("broadcast, broadcastclient need the NTP port (port is 0)"));
  const bound = parseChronyConfText("bindaddress 192.0.2.7\nmulticastclient\n", "t");
  assert.ok(bound.ok);
  const w = checkStartup(bound.config, null);
  assert.ok(w.warnings.some((m) => /multicastclient: a socket bound to 192\.0\.2\.7/.test(m)));
  assert.ok(!w.errors.some((m) => /broadcast|multicast/.test(m)));
});
