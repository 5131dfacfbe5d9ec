import assert from "node:assert/strict";
import { parseChronyConfText } from "./chrony_conf.ts";
import { defaultConfig } from "./defaults.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import type { Config } from "./model.ts";
import { renderConfig, renderSource } from "./render.ts";

function parse(text: string): Config {
  const r = parseChronyConfText(text, "r.conf");
  if (!r.ok) assert.fail(r.errors.map(formatDiagnostic).join("\n"));
  return r.config;
}

function strip(c: Config): Config {
  return {
    ...c,
    sources: c.sources.map((s) => ({ ...s, origin: "" })),
    refclocks: c.refclocks.map((r) => ({ ...r, origin: "" })),
  };
}

const RICH = `server a.example iburst minpoll 4 maxpoll 9 prefer key 7 offset -0.001 asymmetry 0.25
pool pool.ntp.org iburst maxsources 6
peer 192.0.2.9 xleave
refclock SHM 0 refid GPS poll 3 dpoll -2 offset 0.2 delay 0.1 filter 16 noselect
refclock SOCK /run/chrony.ttyS0.sock stratum 2 maxdispersion 0.001 prefer trust
driftfile /var/lib/t/drift interval 60
makestep 0.1 -1
maxchange 100 2 -1
maxslewrate 1000
fallbackdrift 16 19
leapsecmode slew
leapsectz right/UTC
clockprecision 1e-8
allow 192.168/16
deny 192.168.7.0/24
allow all ::/0
ratelimit interval 1 burst 16 leak 3
local stratum 9 orphan distance 0.2
cmdport 10323
bindcmdaddress 0.0.0.0
bindcmdaddress /
cmdallow 10/8
logdir /var/log/t
log tracking statistics rawmeasurements
rtcfile /r
rtconutc
user nobody
manual
noclientlog
`;

Deno.test("renderConfig output parses back to the same Config", () => {
  for (const text of ["", "pool pool.ntp.org iburst\n", RICH]) {
    const c = parse(text);
    const again = parse(renderConfig(c));
    assert.deepEqual(strip(again), strip(c));
  }
});

Deno.test("renderConfig shows defaults and the settings made", () => {
  const out = renderConfig(parse(RICH));
  assert.match(
    out,
    /^server a\.example iburst prefer minpoll 4 maxpoll 9 asymmetry 0\.25 offset -0\.001 key 7$/m,
  );
  assert.match(out, /^pool pool\.ntp\.org iburst maxsources 6$/m);
  assert.match(out, /^driftfile \/var\/lib\/t\/drift interval 60$/m);
  assert.match(out, /^allow all ::\/0$/m);
  assert.match(out, /^bindcmdaddress \/$/m);
  assert.match(out, /^maxdistance 3$/m);
  assert.match(renderConfig(defaultConfig()), /^# \(no sources\)$/m);
});

Deno.test("renderSource leaves out defaults and maxsources outside pools", () => {
  const c = parse("server s.example maxdelay 3 minpoll 6\n");
  assert.equal(renderSource(c.sources[0]), "server s.example");
});
