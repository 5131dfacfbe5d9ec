/**
 * A scriptable NTP server on loopback for tests of query and sync: it answers client
 * requests with a chosen clock offset, a Kiss-o'-Death, garbage, or silence.
 *
 * @module
 */
import { systemTimeSource } from "../../src/clock/kernel_ops.ts";
import type { SocketAddress } from "../../src/base/ports.ts";
import { UdpServerSocket } from "./udp_server_socket.ts";
import {
  decodePacket,
  emptyPacket,
  encodePacket,
  NtpMode,
  refIdFromAscii,
} from "../../src/ntp/packet.ts";
import { instantToNtp64 } from "../../src/ntp/timestamp.ts";

/** How the test server behaves. */
export type TestServerBehaviour =
  | { kind: "ok"; offsetSeconds: number; stratum?: number; kissAfter?: number; kiss?: string }
  | { kind: "kod"; code: string }
  | { kind: "garbage" }
  | { kind: "wrong-origin" }
  | { kind: "silent" };

/** A running test server. */
export interface TestServer {
  /** Where it listens. */
  address: SocketAddress;
  /** Requests received so far. */
  requests: number;
  /** Stops it and waits for its loop to end. */
  close(): Promise<void>;
}

const clock = systemTimeSource();
const realtime = () => clock.realtime();

/** Starts a test server on `host` (default 127.0.0.1), port chosen by the OS. */
export function startTestServer(
  behaviour: TestServerBehaviour,
  host = "127.0.0.1",
): TestServer {
  const socket = UdpServerSocket.bind(host, 0);
  const state: TestServer = {
    address: socket.localAddress,
    requests: 0,
    close: async () => {
      socket.close();
      await loop;
    },
  };
  const loop = (async () => {
    for await (const d of socket.datagrams(realtime)) {
      state.requests++;
      const request = decodePacket(d.data);
      if (!request.ok) continue;
      if (behaviour.kind === "silent") continue;
      if (behaviour.kind === "garbage") {
        await socket.send(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3), d.from);
        continue;
      }
      const reply = emptyPacket(NtpMode.Server);
      reply.originTime = request.packet.transmitTime;
      if (behaviour.kind === "wrong-origin") reply.originTime ^= 1n;
      const kissNow = behaviour.kind === "ok" && behaviour.kissAfter !== undefined &&
        state.requests > behaviour.kissAfter;
      if (behaviour.kind === "kod" || kissNow) {
        reply.leap = 3;
        reply.stratum = 0;
        reply.refId = refIdFromAscii(
          behaviour.kind === "kod"
            ? behaviour.code
            : behaviour.kind === "ok" && behaviour.kiss || "RATE",
        );
        reply.transmitTime = reply.originTime;
      } else {
        const offsetNs = behaviour.kind === "ok"
          ? BigInt(Math.round(behaviour.offsetSeconds * 1e9))
          : 0n;
        reply.stratum = behaviour.kind === "ok" ? behaviour.stratum ?? 1 : 1;
        reply.refId = refIdFromAscii("TEST");
        reply.precision = -20;
        reply.rootDispersion = 0.0001;
        const received = d.receivedAt + offsetNs;
        reply.refTime = instantToNtp64(received - 1_000_000_000n);
        reply.receiveTime = instantToNtp64(received);
        reply.transmitTime = instantToNtp64(realtime() + offsetNs);
      }
      await socket.send(encodePacket(reply), d.from);
    }
  })();
  return state;
}
