import assert from "node:assert/strict";
import { parseDaemonArgs } from "./args.ts";

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
