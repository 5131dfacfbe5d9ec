/**
 * Symmetric associations (modes 1 and 2) in virtual time: simulated hosts, each with its own
 * clock and tempus engine, configured `peer` to each other; their symmetric packets travel
 * through a simulated path (delay, jitter, loss) from one engine's NTP port
 * (`attachNtpPort`) into the other's `receivePeerPacket`. Checks that the peer protocol
 * starts from nothing, measures both directions, synchronises the peer that has no other
 * reference, survives loss, honours symmetric keys, ignores strangers, and that orphan mode
 * (`local orphan`) makes a group of peers agree on one parent after losing its upstream.
 */
import assert from "node:assert/strict";
import { DEFAULT_LOCAL, DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../src/config/defaults.ts";
import type { Config, SourceParams } from "../../src/config/model.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { PeerSource } from "../../src/core/source/peer.ts";
import { KeyStore, type SymmetricKey } from "../../src/ntp/keyfile.ts";
import { refIdFromAddress } from "../../src/ntp/packet.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { SimNode } from "../../src/sim/sim_node.ts";
import { VirtualTime } from "../../src/sim/virtual_time.ts";
import type { ClockSpec } from "../../src/sim/sim_clock.ts";

const START = 1_700_000_000_000_000_000n;
const PORT = 123;

interface Host {
  node: SimNode;
  engine: Engine;
}

interface Net {
  vt: VirtualTime;
  hosts: Host[];
  /** Packets dropped on the way. */
  dropped: number;
  /** Packets delivered. */
  delivered: number;
}

interface HostSpec {
  address: string;
  clock: ClockSpec;
  config?: Partial<Config>;
  keys?: SymmetricKey[];
}

function key(id: number, text: string): SymmetricKey {
  return { id, type: "SHA1", value: new TextEncoder().encode(text), line: 0 };
}

/** Builds hosts, peers them as `links` says ([from, to, params]) and starts them. */
function network(
  specs: HostSpec[],
  links: [number, number, Partial<SourceParams>][],
  options: { seconds: number; loss?: number; seed?: number; txLateNs?: bigint },
): Net {
  const vt = new VirtualTime(START);
  const random = new SimRandom(options.seed ?? 7);
  const pathRandom = random.fork();
  const net: Net = { vt, hosts: [], dropped: 0, delivered: 0 };
  for (const spec of specs) {
    const config: Config = { ...defaultConfig(), ...spec.config };
    let engine: Engine | null = null;
    const node = new SimNode(vt, {
      name: spec.address,
      address: spec.address,
      clock: spec.clock,
      config,
      seconds: options.seconds,
      random: random.fork(),
      watch: [],
    }, (cfg, deps) => {
      engine = new Engine(cfg, deps, null, {
        measurePrecision: () => 1e-9,
        localRefId: refIdFromAddress(spec.address) ?? undefined,
        keys: new KeyStore(spec.keys ?? []),
      });
      return engine;
    });
    net.hosts.push({ node, engine: engine! });
  }
  for (const [from, to, params] of links) {
    const p: SourceParams = { ...DEFAULT_SOURCE_PARAMS, minPoll: 4, maxPoll: 6, ...params };
    net.hosts[from].engine.addSource(
      "peer",
      { address: net.hosts[to].node.address, port: PORT },
      p,
      null,
    );
  }
  for (const host of net.hosts) {
    const self = host.node.address;
    host.engine.attachNtpPort({
      send: (_id, to, bytes) => {
        const dest = net.hosts.find((h) => h.node.address === to.address);
        if (dest === undefined) return false;
        if (pathRandom.next() < (options.loss ?? 0)) {
          net.dropped++;
          return true;
        }
        // 200 µs each way plus up to 100 µs of queueing.
        let delayNs = 200_000n + BigInt(Math.round(pathRandom.next() * 100_000));
        const copy = bytes.slice();
        const late = options.txLateNs;
        if (late !== undefined) {
          // The packet leaves `late` after the engine read its clock; the kernel says when.
          const departure = host.engine.clock.cookedNow() + late;
          vt.scheduleIn(late, () => host.engine.peerTransmitted(copy, departure));
          delayNs += late;
        }
        vt.scheduleIn(delayNs, () => {
          net.delivered++;
          dest.engine.receivePeerPacket(
            { address: self, port: PORT },
            copy,
            dest.engine.clock.cookedNow(),
          );
        });
        return true;
      },
    });
    host.engine.start({ send: () => false });
  }
  return net;
}

function run(net: Net, seconds: number): void {
  net.vt.runUntil(net.vt.now + BigInt(seconds) * 1_000_000_000n);
}

function peerOf(host: Host): PeerSource {
  const s = host.engine.source(host.engine.sourceIds()[0]);
  assert(s instanceof PeerSource);
  return s;
}

const LOCAL3 = { ...DEFAULT_LOCAL, stratum: 3 };

Deno.test("symmetric peers: the peer without a reference follows the one with it", () => {
  const net = network(
    [
      { address: "192.168.50.1", clock: {}, config: { local: LOCAL3 } },
      { address: "192.168.50.2", clock: { offset: 0.02, freq: 30e-6 } },
    ],
    [[0, 1, {}], [1, 0, {}]],
    { seconds: 3000 },
  );
  run(net, 3000);
  const [a, b] = net.hosts;
  const pa = peerOf(a);
  const pb = peerOf(b);
  // Both directions measure: each side got valid packets answering its own.
  assert(pa.counters.validRx > 20, `A valid ${pa.counters.validRx}`);
  assert(pb.counters.goodRx > 20, `B good ${pb.counters.goodRx}`);
  // B follows A: its clock error shrank from 20 ms to well under a millisecond.
  assert(Math.abs(b.node.clock.error()) < 1e-4, `B error ${b.node.clock.error()}`);
  const refB = b.engine.referenceState();
  assert.equal(refB.stratum, 4);
  assert.equal(refB.refId, refIdFromAddress("192.168.50.1"));
  // A never follows B (B is synchronised to A: test D), it stays on its local reference.
  assert.equal(a.engine.referenceState().stratum, 3);
  assert.equal(pa.reachability !== 0, true);
  // ntpdata shows the peer's mode: symmetric active.
  assert.equal(pb.ntpData(b.engine.clock.cookedNow()).mode, 1);
  // Each polls at most every 2^minpoll s and about every 2^maxpoll (+10 %, +2 %) at most.
  const txA = pa.counters.tx;
  assert(txA >= 3000 / 80 && txA <= 3000 / 16 + 2, `A sent ${txA}`);
});

Deno.test("symmetric peers: 30 % packet loss in both directions still synchronises", () => {
  const net = network(
    [
      { address: "192.168.51.1", clock: {}, config: { local: LOCAL3 } },
      { address: "192.168.51.2", clock: { offset: -0.01, freq: -20e-6 } },
    ],
    [[0, 1, {}], [1, 0, {}]],
    { seconds: 4000, loss: 0.3, seed: 11 },
  );
  run(net, 4000);
  assert(net.dropped > 20, `dropped ${net.dropped}`);
  assert(Math.abs(net.hosts[1].node.clock.error()) < 2e-4, `${net.hosts[1].node.clock.error()}`);
  assert.equal(net.hosts[1].engine.referenceState().stratum, 4);
});

Deno.test("symmetric peers: an active peer whose packets nobody takes stays unreachable", () => {
  // Only B has A configured; A has no peer (its NTP port delivers nothing to an engine that
  // has no peer for B): receivePeerPacket refuses, so B's packets get no answer here.
  const net = network(
    [
      { address: "192.168.52.1", clock: {}, config: { local: LOCAL3 } },
      { address: "192.168.52.2", clock: { offset: 0.02 } },
    ],
    [[1, 0, {}]],
    { seconds: 600 },
  );
  run(net, 600);
  const pb = peerOf(net.hosts[1]);
  assert(pb.counters.tx > 10);
  assert.equal(pb.counters.validRx, 0);
  assert.equal(pb.reachability, 0);
  assert(Math.abs(net.hosts[1].node.clock.error() - 0.02) < 1e-3);
});

Deno.test("symmetric peers: matching keys synchronise, a wrong key never does", () => {
  const k1 = key(5, "peer-secret-one");
  const good = network(
    [
      { address: "192.168.53.1", clock: {}, config: { local: LOCAL3 }, keys: [k1] },
      { address: "192.168.53.2", clock: { offset: 0.02 }, keys: [k1] },
    ],
    [[0, 1, { key: 5 }], [1, 0, { key: 5 }]],
    { seconds: 2000 },
  );
  run(good, 2000);
  assert(Math.abs(good.hosts[1].node.clock.error()) < 1e-4);
  assert.equal(peerOf(good.hosts[1]).ntpData(0n).authenticated, true);

  const bad = network(
    [
      { address: "192.168.54.1", clock: {}, config: { local: LOCAL3 }, keys: [k1] },
      { address: "192.168.54.2", clock: { offset: 0.02 }, keys: [key(5, "another-secret")] },
    ],
    [[0, 1, { key: 5 }], [1, 0, { key: 5 }]],
    { seconds: 1000 },
  );
  run(bad, 1000);
  assert.equal(peerOf(bad.hosts[1]).counters.validRx, 0);
  assert.equal(peerOf(bad.hosts[0]).counters.validRx, 0);
  assert(Math.abs(bad.hosts[1].node.clock.error() - 0.02) < 1e-3);
});

Deno.test("symmetric peers: a stranger's forged packets neither measure nor disturb", () => {
  const net = network(
    [
      { address: "192.168.55.1", clock: {}, config: { local: LOCAL3 } },
      { address: "192.168.55.2", clock: { offset: 0.02 } },
    ],
    [[0, 1, {}], [1, 0, {}]],
    { seconds: 2000 },
  );
  const b = net.hosts[1];
  const forge = new SimRandom(3);
  // Every 3 s a forged mode-1 packet claiming to come from A with random timestamps and a
  // plausible header, and one from an unknown address.
  for (let t = 1; t < 2000; t += 3) {
    net.vt.scheduleAt(START + BigInt(t) * 1_000_000_000n, () => {
      const bytes = new Uint8Array(48);
      for (let i = 0; i < 48; i++) bytes[i] = Math.floor(forge.next() * 256);
      bytes[0] = (0 << 6) | (4 << 3) | 1;
      bytes[1] = 1;
      bytes.fill(0, 4, 12); // small root delay and dispersion
      const now = b.engine.clock.cookedNow();
      b.engine.receivePeerPacket({ address: "192.168.55.1", port: PORT }, bytes, now);
      assert.equal(
        b.engine.receivePeerPacket({ address: "10.9.9.9", port: PORT }, bytes, now),
        false,
      );
    });
  }
  run(net, 2000);
  // The forged packets failed test 2 (a random origin), so B still followed A exactly.
  assert(Math.abs(b.node.clock.error()) < 1e-4, `${b.node.clock.error()}`);
  assert.equal(b.engine.sourceIds().length, 1, "no association for the stranger");
});

Deno.test("orphan mode: three peers that lost their upstream agree on the lowest refid", () => {
  const orphan = { ...DEFAULT_LOCAL, stratum: 5, orphan: true, waitUnsynced: 300 };
  const net = network([
    { address: "192.168.56.3", clock: { offset: 0.01, freq: 10e-6 }, config: { local: orphan } },
    { address: "192.168.56.1", clock: { offset: -0.03, freq: -15e-6 }, config: { local: orphan } },
    { address: "192.168.56.2", clock: { offset: 0.05, freq: 25e-6 }, config: { local: orphan } },
  ], [
    [0, 1, {}],
    [0, 2, {}],
    [1, 0, {}],
    [1, 2, {}],
    [2, 0, {}],
    [2, 1, {}],
  ], { seconds: 4000 });
  run(net, 4000);
  const [h3, h1, h2] = net.hosts;
  // 192.168.56.1 has the lowest reference ID: it serves its local reference at stratum 5
  // and the two others follow it at stratum 6.
  assert.equal(h1.engine.referenceState().stratum, 5);
  for (const h of [h2, h3]) {
    const ref = h.engine.referenceState();
    assert.equal(ref.stratum, 6, h.node.address);
    assert.equal(ref.refId, refIdFromAddress("192.168.56.1"), h.node.address);
  }
  // One agreed time: the followers are within 1 ms of the parent.
  const parent = h1.node.clock.error();
  for (const h of [h2, h3]) {
    const d = h.node.clock.error() - parent;
    assert(Math.abs(d) < 1e-3, `${h.node.address} off the parent by ${d}`);
  }
});

/** Two peers whose packets leave 3 ms after their engines read the clock (a slow send path). */
function slowSendPath(xleave: boolean): Net {
  const net = network(
    [
      { address: "192.168.56.1", clock: {}, config: { local: LOCAL3 } },
      { address: "192.168.56.2", clock: { offset: 0.02, freq: 30e-6 } },
    ],
    [[0, 1, { xleave }], [1, 0, { xleave }]],
    { seconds: 3000, loss: 0.1, seed: 5, txLateNs: 3_000_000n },
  );
  run(net, 3000);
  return net;
}

Deno.test("symmetric peers: xleave on both sides measures with the true departures", () => {
  const [a, b] = slowSendPath(true).hosts;
  const pb = peerOf(b);
  const nd = pb.ntpData(b.engine.clock.cookedNow());
  assert.equal(nd.interleaved, true);
  assert.ok(nd.peerDelay < 1e-3, `B's delay ${nd.peerDelay}`);
  assert.ok(peerOf(a).ntpData(a.engine.clock.cookedNow()).interleaved);
  assert(pb.counters.goodRx > 20, `B good ${pb.counters.goodRx}`);
  assert(Math.abs(b.node.clock.error()) < 1e-4, `B error ${b.node.clock.error()}`);
  assert.equal(b.engine.referenceState().stratum, 4);
  // Basic mode on the same path: its own departures are corrected by the kernel's times,
  // the peer's transmit timestamp (3 ms early) is not: 3 ms more delay.
  const basic = peerOf(slowSendPath(false).hosts[1]);
  const bd = basic.ntpData(0n);
  assert.equal(bd.interleaved, false);
  assert.ok(bd.peerDelay > 3e-3, `basic delay ${bd.peerDelay}`);
});
