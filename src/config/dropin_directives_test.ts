/**
 * The directives of chrony's edge that tempus once refused (issue 13, item 3) and the
 * sourcedir order (item 5): what chronyd 4.3 accepts is accepted with its meaning, and bad
 * values are errors.
 */
import assert from "node:assert/strict";
import { parseChronyConf, parseChronyConfText } from "./chrony_conf.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import type { Config } from "./model.ts";
import { memReader } from "../../tests/helpers/mem_reader.ts";

function ok(text: string): Config {
  const r = parseChronyConfText(text, "test.conf");
  if (!r.ok) assert.fail(r.errors.map(formatDiagnostic).join("\n"));
  return r.config;
}

function fails(text: string): string[] {
  const r = parseChronyConfText(text, "test.conf");
  assert.equal(r.ok, false, `expected errors for:\n${text}`);
  return r.ok ? [] : r.errors.map(formatDiagnostic);
}

Deno.test("bindacqaddress keeps one address per family, the last one winning", () => {
  const c = ok("bindacqaddress 127.0.0.1\nbindacqaddress ::1\nbindacqaddress 192.0.2.1\n");
  assert.deepEqual(c.bindAcqAddresses, ["::1", "192.0.2.1"]);
  assert.match(fails("bindacqaddress nothere")[0], /bindacqaddress: invalid address 'nothere'/);
  assert.match(fails("bindacqaddress")[0], /bindacqaddress/);
});

Deno.test("binddevice, bindacqdevice and bindcmddevice take an interface name", () => {
  const c = ok("binddevice eth0\nbindacqdevice lo\nbindcmddevice veth-x\n");
  assert.equal(c.bindDevice, "eth0");
  assert.equal(c.bindAcqDevice, "lo");
  assert.equal(c.bindCmdDevice, "veth-x");
  assert.match(fails("binddevice a-very-long-name0")[0], /invalid interface name/);
  assert.match(fails("bindcmddevice a/b")[0], /invalid interface name/);
  assert.match(fails("bindacqdevice")[0], /bindacqdevice/);
});

Deno.test("dscp is 0 to 63", () => {
  assert.equal(ok("dscp 46").dscp, 46);
  assert.equal(ok("dscp 0").dscp, 0);
  assert.match(fails("dscp 64")[0], /dscp/);
  assert.match(fails("dscp ef")[0], /dscp/);
});

Deno.test("tempcomp: the quadratic form, the point-file form, and errors", () => {
  assert.deepEqual(ok("tempcomp /sys/t 30 26000 0.0 0.000183 0.0").tempComp, {
    file: "/sys/t",
    interval: 30,
    pointFile: null,
    t0: 26000,
    k0: 0,
    k1: 0.000183,
    k2: 0,
  });
  const p = ok("tempcomp /sys/t 0 /etc/points").tempComp!;
  assert.equal(p.pointFile, "/etc/points");
  assert.equal(p.interval, 1.0); // chrony: an interval <= 0 means 1 s
  assert.match(fails("tempcomp /sys/t 30 1 2")[0], /tempcomp: expected FILE INTERVAL/);
  assert.match(fails("tempcomp /sys/t x 1 2 3 4")[0], /tempcomp/);
  assert.deepEqual(ok("log tempcomp rawmeasurements").logKinds, ["tempcomp", "rawmeasurements"]);
});

Deno.test("sourcedir sources come after the whole configuration, as chronyd adds them", () => {
  const reader = memReader({
    "/m.conf": "server a.example\nsourcedir /s\nserver b.example\ninclude /i.conf\n",
    "/i.conf": "server c.example\n",
    "/s/1.sources": "server d.example\n",
    "/s/2.sources": "server e.example\n",
  });
  const r = parseChronyConf("/m.conf", reader);
  assert.ok(r.ok);
  assert.deepEqual(
    r.config.sources.map((s) => s.name),
    ["a.example", "b.example", "c.example", "d.example", "e.example"],
  );
  assert.equal(r.config.sources[3].origin, "/s/1.sources:1");
});

Deno.test("acquisitionport other than 0 is an error, not a setting silently ignored", () => {
  assert.equal(ok("acquisitionport 0").acquisitionPort, 0);
  assert.match(fails("acquisitionport 1123")[0], /acquisitionport: a fixed client port is not/);
});
