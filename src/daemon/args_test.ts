/** chronyd's process options on `tempus daemon` (issue 13, item 2). */
import assert from "node:assert/strict";
import { parseDaemonArgs } from "./args.ts";

Deno.test("-n, -m, -P and -F 0 are accepted with chronyd's meaning", () => {
  const o = parseDaemonArgs(["-n", "-m", "-P", "1", "-F", "0", "-x", "-f", "/c"]);
  assert.equal(o.noFork, true);
  assert.equal(o.lockMemory, true);
  assert.equal(o.schedPriority, 1);
  assert.equal(o.filterLevel, 0);
  const d = parseDaemonArgs([]);
  assert.deepEqual([d.noFork, d.lockMemory, d.schedPriority, d.logName], [
    false,
    false,
    0,
    "tempus",
  ]);
});

Deno.test("-F 2 and -2 are accepted; level 1 (allow-list) is refused in one clear line", () => {
  assert.equal(parseDaemonArgs(["-F", "2"]).filterLevel, 2);
  assert.equal(parseDaemonArgs(["-F", "-2"]).filterLevel, -2);
  for (const level of ["1", "-1"]) {
    assert.throws(
      () => parseDaemonArgs(["-F", level]),
      new RegExp(`^Error: -F ${level}: level 1 \\(an allow-list of system calls\\) is not`),
    );
  }
  assert.throws(() => parseDaemonArgs(["-F", "3"]), /invalid filter level '3'/);
  assert.throws(() => parseDaemonArgs(["-F", "x"]), /invalid filter level 'x'/);
});

Deno.test("-P takes 0 to 99", () => {
  assert.equal(parseDaemonArgs(["-P", "99"]).schedPriority, 99);
  assert.throws(() => parseDaemonArgs(["-P", "100"]), /invalid priority '100'/);
  assert.throws(() => parseDaemonArgs(["-P", "-1"]), /invalid priority '-1'/);
});

Deno.test("--log-name and -v", () => {
  assert.equal(parseDaemonArgs(["--log-name", "chronyd"]).logName, "chronyd");
  assert.throws(() => parseDaemonArgs(["--log-name", "a b"]), /invalid --log-name/);
  assert.equal(parseDaemonArgs(["-v"]).version, true);
});

Deno.test("parseDaemonArgs: -u and directives are kept as given", () => {
  const o = parseDaemonArgs(["-x", "-u", "nobody", "user _chrony"]);
  assert.equal(o.user, "nobody");
  assert.deepEqual(o.configLines, ["user _chrony"]);
});

Deno.test("parseDaemonArgs: an argument with bytes that are not UTF-8 is refused", () => {
  // What Deno.args holds for argv bytes 'drift\xff': the replacement character.
  assert.throws(() => parseDaemonArgs(["-l", "/var/log/t\uFFFDmpus.log"]), /not valid UTF-8/);
  assert.throws(() => parseDaemonArgs(["driftfile /var/lib/dr\uFFFDft"]), /not valid UTF-8/);
});

Deno.test("-r asks for the dump files to be loaded (chronyd -r)", () => {
  assert.equal(parseDaemonArgs(["-r"]).reloadDumps, true);
  assert.equal(parseDaemonArgs([]).reloadDumps, false);
});
