/**
 * The XDP responder run by the kernel on test frames (BPF_PROG_TEST_RUN: loaded and verified
 * for real, attached nowhere). Needs root (CAP_BPF); skipped without it.
 */
import assert from "node:assert/strict";
import { XdpResponder } from "./xdp_responder.ts";
import { TcxAction, XDP_REQUEST_FRAME_LENGTH, XdpAction } from "./responder_program.ts";
import type { XdpResponderState } from "./responder_state.ts";
import { NtpResponder } from "../../core/server.ts";
import { AccessTable } from "../../core/access.ts";
import type { ReferenceState } from "../../core/types.ts";
import { clockGettime } from "../../../ffi/libc.ts";
import { seededRandom } from "../../../tests/helpers/random.ts";
import { xdpLoadable } from "../../../tests/helpers/xdp.ts";

const ignore = !xdpLoadable();

const REFERENCE: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 2,
  refId: 0x7f7f0101,
  refTime: 1_796_000_000_123_456_789n,
  rootDelay: 0.000_512,
  rootDispersion: 0.001_25,
  dispersionRate: 16e-6,
  precisionLog2: -24,
};

const SERVED_AT_MONO0 = 1_796_000_010_000_000_000n;
const CLOCK_MONOTONIC = 1;

function state(over: Partial<XdpResponderState> = {}): XdpResponderState {
  return {
    enabled: true,
    port: 123,
    bindAddress: null,
    tos: 0xb8,
    clientLog: true,
    rateLimit: null,
    line: { monotonicNs: clockGettime(CLOCK_MONOTONIC), served: SERVED_AT_MONO0, rateError: 0 },
    reference: REFERENCE,
    ...over,
  };
}

/** An Ethernet + IPv4 + UDP frame around `ntp`, from 192.0.2.7:40000 to 198.51.100.1:123. */
function frame(ntp: Uint8Array, options: { port?: number; ihl?: number } = {}): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + ntp.length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  v.setUint16(12, 0x0800);
  f[14] = 0x40 | (options.ihl ?? 5);
  v.setUint16(16, 20 + 8 + ntp.length);
  v.setUint16(18, 0x1234);
  v.setUint16(20, 0x4000);
  f[22] = 57;
  f[23] = 17;
  f.set([192, 0, 2, 7], 26);
  f.set([198, 51, 100, 1], 30);
  v.setUint16(34, 40000);
  v.setUint16(36, options.port ?? 123);
  v.setUint16(38, 8 + ntp.length);
  v.setUint16(40, 0xbeef);
  f.set(ntp, 42);
  return f;
}

function request(first = 0x23): Uint8Array {
  const ntp = new Uint8Array(48);
  ntp[0] = first; // version 4, mode 3
  ntp[2] = 6;
  ntp.set([0xe8, 1, 2, 3, 4, 5, 6, 7], 40);
  return ntp;
}

function ntpTime(bytes: Uint8Array, at: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return v.getUint32(at) + v.getUint32(at + 4) / 2 ** 32;
}

function ipChecksumOk(f: Uint8Array): boolean {
  const v = new DataView(f.buffer, f.byteOffset);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum === 0xffff;
}

/** The test frames' destination, this "host's" address for the bind-any check. */
const LOCAL = Uint8Array.of(198, 51, 100, 1);

function loaded(
  prefixes = new AccessTable([{ allow: true, subnet: "", all: false }]),
  hook: "xdp" | "tc" = "xdp",
) {
  const xdp = XdpResponder.load(hook);
  xdp.setAccess(prefixes.ipv4Prefixes());
  xdp.setLocalAddresses([LOCAL, Uint8Array.of(127, 0, 0, 1)]);
  return xdp;
}

Deno.test({
  name: "xdp responder: a plain request gets the daemon's reply, byte for byte but the times",
  ignore,
  fn() {
    const xdp = loaded();
    try {
      const s = state();
      xdp.setState(s);
      const req = request();
      const run = xdp.testRun(frame(req));
      assert.equal(run.retval, XdpAction.tx);
      const out = run.data;
      const elapsed = Number(clockGettime(CLOCK_MONOTONIC) - s.line.monotonicNs);
      // The daemon's reply at the same instant (its receive time = the kernel's, rounded).
      const access = new AccessTable([{ allow: true, subnet: "", all: false }]);
      const js = new NtpResponder({ access, clientLog: null }).respond(
        req,
        { address: "192.0.2.7", port: 40000 },
        SERVED_AT_MONO0,
        REFERENCE,
        () => SERVED_AT_MONO0,
      );
      assert.ok(js !== null);
      const reply = out.subarray(42);
      assert.deepEqual([...reply.subarray(0, 8)], [...js.subarray(0, 8)]);
      assert.deepEqual([...reply.subarray(12, 32)], [...js.subarray(12, 32)]);
      // Root dispersion: grown by the rate over at most `elapsed`, to the 2^-16 s unit.
      const disp = new DataView(reply.buffer, reply.byteOffset).getUint32(8);
      const jsDisp = new DataView(js.buffer, js.byteOffset).getUint32(8);
      assert.ok(disp >= jsDisp && disp <= jsDisp + 1 + (elapsed / 1e9) * 16e-6 * 65536, `${disp}`);
      // Receive and transmit: on the line, within the time the test took, flag bits set.
      const served0 = Number(SERVED_AT_MONO0 / 1_000_000_000n) + 2_208_988_800;
      const rx = ntpTime(reply, 32) - served0;
      const tx = ntpTime(reply, 40) - served0;
      assert.ok(rx >= 0 && rx <= elapsed / 1e9 + 1e-6, `rx ${rx}`);
      assert.ok(tx >= rx && tx - rx < 0.01, `tx ${tx}`);
      assert.equal(reply[39] & 1, 1);
      assert.equal(reply[47] & 1, 0);
      // Headers turned around.
      assert.deepEqual([...out.subarray(0, 12)], [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
      assert.deepEqual([...out.subarray(26, 34)], [198, 51, 100, 1, 192, 0, 2, 7]);
      assert.equal(out[15], 0xb8);
      assert.equal(out[22], 64);
      assert.ok(ipChecksumOk(out));
      const v = new DataView(out.buffer, out.byteOffset);
      assert.equal(v.getUint16(34), 123);
      assert.equal(v.getUint16(36), 40000);
      assert.equal(v.getUint16(40), 0);
      assert.deepEqual(xdp.counters(), { answered: 1, limited: 0, kod: 0 });
      const clients = xdp.clients();
      assert.equal(clients.length, 1);
      assert.equal(clients[0].address, "192.0.2.7");
      assert.equal(clients[0].hits, 1);
    } finally {
      xdp.close();
    }
  },
});

Deno.test({
  name: "xdp responder: the served line's rate and an unsynchronised reference",
  ignore,
  fn() {
    const xdp = loaded();
    try {
      const mono = clockGettime(CLOCK_MONOTONIC) - 1_000_000_000n; // one second ago
      xdp.setState(state({
        line: { monotonicNs: mono, served: SERVED_AT_MONO0, rateError: 0.01 },
        reference: { ...REFERENCE, synchronised: false },
        clientLog: false,
      }));
      const out = xdp.testRun(frame(request(0x1b))).data.subarray(42); // version 3
      assert.equal(out[0], (3 << 6) | (3 << 3) | 4);
      assert.equal(out[1], 16);
      const elapsed = Number(clockGettime(CLOCK_MONOTONIC) - mono) / 1e9;
      const served0 = Number(SERVED_AT_MONO0 / 1_000_000_000n) + 2_208_988_800;
      const rx = ntpTime(out, 32) - served0;
      assert.ok(rx >= 1.01 && rx <= elapsed * 1.01 + 1e-6, `rx ${rx}`);
      // Unsynchronised: the stored dispersion, not grown.
      assert.equal(
        new DataView(out.buffer, out.byteOffset).getUint32(8),
        Math.ceil(0.00125 * 65536),
      );
      assert.equal(xdp.clients().length, 0);
    } finally {
      xdp.close();
    }
  },
});

Deno.test({
  name: "xdp responder: everything it must not answer goes to the daemon",
  ignore,
  fn() {
    const table = new AccessTable([
      { allow: true, subnet: "192.0.2.0/24", all: false },
      { allow: false, subnet: "192.0.2.7", all: false },
    ]);
    const xdp = loaded(table);
    try {
      xdp.setState(state());
      const pass = (f: Uint8Array) => assert.equal(xdp.testRun(f).retval, XdpAction.pass);
      pass(frame(request())); // denied /32 inside an allowed /24
      xdp.setAccess(
        new AccessTable([{ allow: true, subnet: "192.0.2.0/24", all: false }]).ipv4Prefixes(),
      );
      assert.equal(xdp.testRun(frame(request())).retval, XdpAction.tx);
      pass(frame(request(0x24))); // mode 4
      pass(frame(request(0x03))); // version 0
      pass(frame(request(0x2b))); // version 5
      pass(frame(request(), { port: 124 }));
      pass(frame(request(), { ihl: 6 }));
      pass(frame(new Uint8Array([...request(), 0, 0, 0, 1, ...new Uint8Array(20)]))); // MAC
      pass(frame(request()).subarray(0, 80)); // truncated
      const interleaved = request();
      interleaved[31] = 1;
      interleaved[39] = 9;
      pass(frame(interleaved));
      interleaved[47] = 9; // receive = transmit: basic
      interleaved.set(interleaved.subarray(32, 40), 40);
      assert.equal(xdp.testRun(frame(interleaved)).retval, XdpAction.tx);
      xdp.setState(state({ bindAddress: "198.51.100.2" }));
      pass(frame(request()));
      // Bind-any: only to this host's addresses, only to a unicast MAC address.
      xdp.setState(state());
      xdp.setLocalAddresses([Uint8Array.of(127, 0, 0, 1)]);
      pass(frame(request())); // routed or bridged through this host
      xdp.setLocalAddresses([LOCAL]);
      assert.equal(xdp.testRun(frame(request())).retval, XdpAction.tx);
      const broadcast = frame(request());
      broadcast.fill(0xff, 0, 6);
      pass(broadcast);
      const multicast = frame(request());
      multicast.set([0x01, 0x00, 0x5e, 0x00, 0x01, 0x01], 0);
      pass(multicast);
      xdp.setState(state({ line: { monotonicNs: 1n, served: SERVED_AT_MONO0, rateError: 0 } }));
      pass(frame(request())); // stale state
      xdp.setState(state({ enabled: false }));
      pass(frame(request()));
    } finally {
      xdp.close();
    }
  },
});

Deno.test({
  name: "xdp responder: random frames are answered only when they are plain requests",
  ignore,
  fn() {
    const xdp = loaded();
    const rng = seededRandom(0x5eed);
    try {
      xdp.setState(state());
      const base = frame(request());
      for (let i = 0; i < 2000; i++) {
        const f = base.slice(
          0,
          XDP_REQUEST_FRAME_LENGTH + (rng() < 0.2 ? Math.floor(rng() * 8) : 0),
        );
        const flips = 1 + Math.floor(rng() * 4);
        for (let k = 0; k < flips; k++) f[Math.floor(rng() * 44)] ^= 1 << Math.floor(rng() * 8);
        const run = xdp.testRun(f);
        assert.ok(run.retval === XdpAction.pass || run.retval === XdpAction.tx);
        if (run.retval === XdpAction.tx) {
          assert.ok(ipChecksumOk(run.data));
          assert.equal(run.data[42] & 7, 4);
          assert.equal(new DataView(run.data.buffer).getUint16(34), 123);
        }
      }
    } finally {
      xdp.close();
    }
  },
});

Deno.test({
  name: "xdp responder: chrony's ratelimit per client, with leaks and KoD RATE",
  ignore,
  fn() {
    const xdp = loaded();
    try {
      // One answer costs 1 s of credit, two in a burst; 1 in 2 dropped requests gets a KoD.
      xdp.setState(state({ rateLimit: { interval: 0, burst: 2, leak: 4, kod: 1 } }));
      const verdicts = { answered: 0, dropped: 0, kod: 0 };
      for (let i = 0; i < 400; i++) {
        const run = xdp.testRun(frame(request()));
        if (run.retval === XdpAction.drop) verdicts.dropped++;
        else {
          assert.equal(run.retval, XdpAction.tx);
          const ntp = run.data.subarray(42);
          if (ntp[1] === 0) {
            // KoD RATE: leap 3, stratum 0, refid RATE, no root delay, dispersion or reference.
            assert.equal(ntp[0], (3 << 6) | (4 << 3) | 4);
            assert.equal(new TextDecoder().decode(ntp.subarray(12, 16)), "RATE");
            assert.deepEqual([...ntp.subarray(4, 12)], [0, 0, 0, 0, 0, 0, 0, 0]);
            assert.deepEqual([...ntp.subarray(16, 24)], [0, 0, 0, 0, 0, 0, 0, 0]);
            verdicts.kod++;
          } else {
            if (i < 2) assert.equal(ntp[1], 2, `request ${i}`);
            verdicts.answered++;
          }
        }
      }
      // The burst, then leaks at 1/16 of the rest; half the drops get a KoD.
      assert.ok(verdicts.answered >= 2 + 8 && verdicts.answered <= 2 + 50, `${verdicts.answered}`);
      const limited = 400 - verdicts.answered;
      assert.ok(verdicts.kod > limited * 0.3 && verdicts.kod < limited * 0.7, `${verdicts.kod}`);
      assert.deepEqual(xdp.counters(), {
        answered: verdicts.answered,
        limited,
        kod: verdicts.kod,
      });
      const [client] = xdp.clients();
      assert.equal(client.hits, 400);
      assert.equal(client.drops, limited);
    } finally {
      xdp.close();
    }
  },
});

Deno.test({
  name: "tc responder: the receive time is the kernel's receive timestamp, on the served line",
  ignore,
  fn() {
    const xdp = loaded(undefined, "tc");
    try {
      const a = clockGettime(CLOCK_MONOTONIC);
      const realtime = clockGettime(0);
      const mono = (a + clockGettime(CLOCK_MONOTONIC)) / 2n;
      const s = state({
        line: {
          monotonicNs: mono,
          served: SERVED_AT_MONO0,
          rateError: 1e-4,
          realtimeMinusMono: realtime - mono,
        },
      });
      xdp.setState(s);
      // Stamped 100 µs after the line's origin: served0 + 100 µs (1 + 1e-4), to the ns.
      const run = xdp.testRun(frame(request()), 1, realtime + 100_000n);
      assert.equal(run.retval, TcxAction.redirect);
      const reply = run.data.subarray(42);
      const v = new DataView(reply.buffer, reply.byteOffset);
      const expected = SERVED_AT_MONO0 + 100_010n + 2_208_988_800_000_000_000n;
      const seconds = expected / 1_000_000_000n;
      const fraction = Number(((expected % 1_000_000_000n) << 32n) / 1_000_000_000n);
      assert.equal(BigInt(v.getUint32(32)), seconds % 2n ** 32n);
      assert.ok(Math.abs((v.getUint32(36) & ~1) - (fraction & ~1)) <= 2, `${v.getUint32(36)}`);
      assert.equal(reply[39] & 1, 1);
      assert.ok(ipChecksumOk(run.data));
      // No timestamp (nothing asked for one), or one that is not recent: the time of the run.
      const unstamped = xdp.testRun(frame(request()), 1, 0n).data.subarray(42);
      const rx = ntpTime(unstamped, 32) - Number(SERVED_AT_MONO0 / 1_000_000_000n) - 2_208_988_800;
      assert.ok(rx > 100e-6 && rx < 1, `${rx}`);
      const stale = xdp.testRun(frame(request()), 1, realtime - 5_000_000n).data.subarray(42);
      assert.ok(ntpTime(stale, 32) - ntpTime(unstamped, 32) < 0.5);
      assert.ok(ntpTime(stale, 32) > ntpTime(unstamped, 32) - 0.001);
      // What it must not answer, it leaves to the stack; the rate limit drops with TC_ACT_SHOT.
      assert.equal(xdp.testRun(frame(request(0x24)), 1, realtime).retval, TcxAction.next);
      xdp.setState({ ...s, rateLimit: { interval: 4, burst: 1, leak: 4, kod: 0 } });
      const verdicts = new Set<number>();
      for (let i = 0; i < 40; i++) verdicts.add(xdp.testRun(frame(request()), 1, realtime).retval);
      assert.ok(verdicts.has(TcxAction.drop), [...verdicts].join());
    } finally {
      xdp.close();
    }
  },
});
