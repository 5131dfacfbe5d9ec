import assert from "node:assert/strict";
import { findChronyd } from "../../tests/helpers/peers.ts";
import { parseChronyConfText } from "./chrony_conf.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import { renderConfig } from "./render.ts";

const CHRONYD = findChronyd();

/** Runs `chronyd -p -x -f FILE` (parse and print only; -x: never touch the clock). */
async function chronydAccepts(text: string): Promise<{ ok: boolean; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-" });
  try {
    const file = `${dir}/chrony.conf`;
    await Deno.writeTextFile(file, text);
    const out = await new Deno.Command(CHRONYD as string, {
      args: ["-p", "-x", "-f", file],
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    return { ok: out.code === 0 && !/Fatal error/.test(stderr), stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const CONFIGS = [
  "",
  "pool pool.ntp.org iburst\ndriftfile /var/lib/t/drift\nmakestep 1.0 3\nrtcsync\n",
  `server a.example iburst minpoll 4 maxpoll 9 prefer key 7 offset -0.001 asymmetry 0.25
pool pool.ntp.org iburst maxsources 6
peer 192.0.2.9 xleave
driftfile /var/lib/t/drift
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
`,
];

Deno.test({
  name: "renderConfig output is accepted by chronyd -p (chrony.conf syntax)" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null,
  async fn() {
    for (const text of CONFIGS) {
      const r = parseChronyConfText(text, "in.conf");
      assert.ok(r.ok, r.ok ? "" : r.errors.map(formatDiagnostic).join("\n"));
      const rendered = renderConfig(r.config);
      const res = await chronydAccepts(rendered);
      assert.ok(res.ok, `chronyd rejected:\n${rendered}\n${res.stderr}`);
    }
  },
});

Deno.test({
  name: "dist/tempus.conf is accepted by chronyd -p" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null,
  async fn() {
    const text = Deno.readTextFileSync(new URL("../../dist/tempus.conf", import.meta.url));
    const res = await chronydAccepts(text);
    assert.ok(res.ok, res.stderr);
  },
});

Deno.test({
  name: "chronyd -p and tempus agree on what is an invalid line" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null,
  async fn() {
    for (
      const bad of [
        "server a.example minpoll 4.5",
        "makestep 1",
        "frobnicate 3",
        "server a.example bogusoption",
        // (allow/deny subnets are checked by chronyd only when it applies them, not by -p)
      ]
    ) {
      assert.equal(parseChronyConfText(bad, "x").ok, false, bad);
      assert.equal((await chronydAccepts(bad + "\n")).ok, false, `chronyd accepted: ${bad}`);
    }
  },
});
