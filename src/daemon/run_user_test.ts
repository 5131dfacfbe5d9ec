import assert from "node:assert/strict";
import { applyRunUser, resolveRunUser, type RunUser } from "./run_user.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "_chrony:x:101:102::/var/lib/chrony:/usr/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
].join("\n");
const ROOT = { uid: 0, gid: 0 };

Deno.test("resolveRunUser: -u wins over the user directive, which wins over the process", () => {
  const both = resolveRunUser("nobody", "_chrony", PASSWD, ROOT);
  assert.ok(both.ok);
  assert.deepEqual(both.user, { name: "nobody", uid: 65534, gid: 65534, from: "-u" });
  const directive = resolveRunUser(null, "_chrony", PASSWD, ROOT);
  assert.ok(directive.ok);
  assert.deepEqual(directive.user, { name: "_chrony", uid: 101, gid: 102, from: "user" });
  const none = resolveRunUser(null, null, PASSWD, { uid: 101, gid: 102 });
  assert.ok(none.ok);
  assert.deepEqual(none.user, { name: "_chrony", uid: 101, gid: 102, from: "process" });
  // -u is taken even when the directive names an unknown user (it is never consulted).
  assert.ok(resolveRunUser("nobody", "nosuchuser", PASSWD, ROOT).ok);
});

Deno.test("resolveRunUser: an unknown user is an error, as chronyd's", () => {
  const r = resolveRunUser(null, "nosuchuser", PASSWD, ROOT);
  assert.deepEqual(r, { ok: false, error: "Could not get user/group ID of nosuchuser" });
  assert.equal(resolveRunUser("nosuchuser", null, PASSWD, ROOT).ok, false);
});

function ops(current: { uid: number; gid: number }) {
  const calls: Array<[string, number[]]> = [];
  return {
    calls,
    current: () => current,
    drop: (n: string, c: number[]) => void calls.push([n, c]),
  };
}

const NOBODY: RunUser = { name: "nobody", uid: 65534, gid: 65534, from: "user" };

Deno.test("applyRunUser: root switches to a non-root user keeping the capabilities asked for", () => {
  const o = ops(ROOT);
  assert.equal(applyRunUser(NOBODY, [25], o), "Running as nobody (uid 65534)");
  assert.deepEqual(o.calls, [["nobody", [25]]]);
});

Deno.test("applyRunUser: nothing to do as that user already, or for root", () => {
  const same = ops({ uid: 65534, gid: 65534 });
  assert.equal(applyRunUser(NOBODY, [], same), null);
  const root = ops(ROOT);
  assert.equal(applyRunUser({ name: "root", uid: 0, gid: 0, from: "user" }, [], root), null);
  assert.deepEqual([...same.calls, ...root.calls], []);
});

Deno.test("applyRunUser: a user that cannot be switched to (not root) is an error, not ignored", () => {
  assert.throws(
    () => applyRunUser(NOBODY, [], ops({ uid: 1000, gid: 1000 })),
    /not started as root/,
  );
});
