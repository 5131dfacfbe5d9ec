import assert from "node:assert/strict";
import { capabilityWords, findAccount } from "./privileges.ts";

Deno.test("findAccount reads passwd lines by name or uid", () => {
  const text = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n";
  assert.deepEqual(findAccount(text, "nobody"), { name: "nobody", uid: 65534, gid: 65534 });
  assert.deepEqual(findAccount(text, "0"), { name: "root", uid: 0, gid: 0 });
  assert.equal(findAccount(text, "chrony"), null);
});

Deno.test("capability words put CAP_SYS_TIME (25) in the low word", () => {
  assert.deepEqual(capabilityWords([25]), [1 << 25, 0]);
  assert.deepEqual(capabilityWords([10, 25]), [(1 << 10) | (1 << 25), 0]);
  assert.deepEqual(capabilityWords([33]), [0, 2]);
});
