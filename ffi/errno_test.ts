import assert from "node:assert/strict";
import { describeErrno, ErrnoError, errnoName } from "./errno.ts";
import { KernelTimestampSocket } from "./udp_socket.ts";
import { libcAvailable } from "./libc.ts";

Deno.test("describeErrno: socket errors read as words, with the symbolic name", () => {
  assert.equal(describeErrno(98), "Address already in use (EADDRINUSE)");
  assert.equal(describeErrno(99), "Cannot assign requested address (EADDRNOTAVAIL)");
  assert.equal(describeErrno(111), "Connection refused (ECONNREFUSED)");
  assert.equal(describeErrno(13), "Permission denied (EACCES)");
  assert.equal(describeErrno(4242), "errno 4242");
  assert.equal(errnoName(40), "ELOOP");
  assert.equal(new ErrnoError("bind", 98).message, "bind: EADDRINUSE (address already in use)");
});

Deno.test({
  name: "a busy port: the kernel-timestamp socket says 'Address already in use', not 'errno 98'",
  ignore: !libcAvailable(),
  fn() {
    const holder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const port = (holder.addr as Deno.NetAddr).port;
      assert.throws(
        () => KernelTimestampSocket.open("127.0.0.1", port),
        (e: Error) =>
          /Address already in use \(EADDRINUSE\)/.test(e.message) && !/errno/.test(e.message),
      );
    } finally {
      holder.close();
    }
  },
});
