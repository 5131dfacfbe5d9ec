import assert from "node:assert/strict";
import {
  AF_INET,
  applySocketTuning,
  boundDevice,
  ownUdpSocketsOnPort,
  trafficClass,
} from "./socket_options.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "./udp_socket.ts";
import { ErrnoError } from "./errno.ts";

const ignore = !kernelTimestampSocketsAvailable() || Deno.uid() !== 0;

Deno.test({
  name: "a configured client socket is bound to the device and carries DSCP 46 (getsockopt)",
  ignore,
  fn() {
    const sock = KernelTimestampSocket.open(
      "127.0.0.1",
      0,
      1024,
      (fd, family) => applySocketTuning(fd, family, { device: "lo", dscp: 46 }),
    );
    try {
      const [found] = ownUdpSocketsOnPort(sock.local.port);
      assert.equal(found.family, AF_INET);
      assert.equal(boundDevice(found.fd), "lo");
      assert.equal(trafficClass(found.fd, found.family), 46 << 2);
    } finally {
      sock.close();
    }
  },
});

Deno.test({
  name: "Deno.listenDatagram sockets are found by port and can be bound to a device",
  ignore,
  fn() {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const port = (conn.addr as Deno.NetAddr).port;
      const found = ownUdpSocketsOnPort(port);
      assert.equal(found.length, 1);
      assert.equal(boundDevice(found[0].fd), "");
      applySocketTuning(found[0].fd, found[0].family, { device: "lo", dscp: null });
      assert.equal(boundDevice(found[0].fd), "lo");
      assert.equal(trafficClass(found[0].fd, found[0].family), 0);
    } finally {
      conn.close();
    }
  },
});

Deno.test({
  name: "an unknown device is an error (ENODEV), not ignored",
  ignore,
  fn() {
    assert.throws(
      () =>
        KernelTimestampSocket.open(
          "127.0.0.1",
          0,
          1024,
          (fd, family) => applySocketTuning(fd, family, { device: "nosuchdev0", dscp: null }),
        ),
      (e: unknown) => e instanceof ErrnoError && /ENODEV/.test(e.message),
    );
  },
});
