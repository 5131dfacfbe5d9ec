import assert from "node:assert/strict";
import { NtsRequestAuthenticator, NtsServerKeys } from "./nts_server.ts";
import { NtsSession } from "../nts/session.ts";
import { makeCookie } from "../nts/cookies.ts";
import { NtpResponder } from "../core/server.ts";
import { AccessTable } from "../core/access.ts";
import { emptyPacket, NtpMode } from "../ntp/packet.ts";
import { decodeKeySet, encodeKeySet, KEPT_KEYS } from "../nts/server_keys.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const ignore = !opensslAvailable();
const rnd = seededRandom(0x5e77);
const random = (n: number) => randomBytes(rnd, new Uint8Array(n));
const quiet = { log: () => {} };

/** A client session whose cookies were made under the server's current key. */
function clientOf(keys: NtsServerKeys): NtsSession {
  const contents = { aeadId: 15, c2sKey: random(32), s2cKey: random(32) };
  const cookies = Array.from({ length: 8 }, () => makeCookie(keys.keys[0], random(16), contents));
  return new NtsSession({ ...contents, cookies }, random);
}

function responder(keys: NtsServerKeys): NtpResponder {
  const { table } = AccessTable.fromRules([{ allow: true, subnet: "all", all: false }]);
  return new NtpResponder({
    access: table,
    clientLog: null,
    nts: new NtsRequestAuthenticator(keys),
  });
}

const REFERENCE = {
  synchronised: true,
  leap: 0,
  stratum: 2,
  precisionLog2: -20,
  rootDelay: 0.001,
  rootDispersion: 0.001,
  dispersionRate: 0,
  refId: 0x7f000001,
  refTime: 1_000_000_000_000_000_000n,
};

function exchange(r: NtpResponder, client: NtsSession) {
  const header = { ...emptyPacket(NtpMode.Client), transmitTime: 0x1234_5678_9abc_def0n };
  const request = client.buildRequest(header)!;
  const reply = r.respond(
    request,
    { address: "192.0.2.9", port: 123 },
    REFERENCE.refTime,
    REFERENCE as never,
    () => REFERENCE.refTime + 1000n,
  );
  assert.ok(reply !== null, "a reply");
  return client.acceptReply(reply.slice());
}

Deno.test({
  name: "NTS server: the responder answers NTS requests authenticated, with the cookies asked for",
  ignore,
  fn() {
    const keys = new NtsServerKeys(null, quiet);
    const r = responder(keys);
    const client = clientOf(keys);
    for (let i = 0; i < 10; i++) {
      const v = exchange(r, client);
      assert.ok(v.ok, v.ok ? "" : v.error.message);
      assert.equal(v.reply.packet.mode, 4);
      assert.equal(v.reply.packet.stratum, 2);
      assert.equal(v.reply.packet.originTime, 0x1234_5678_9abc_def0n);
      assert.equal(client.cookieCount, 8);
    }
    // A plain request is still served as plain NTP by the same responder.
    const plain = r.respond(
      new Uint8Array([0x23, ...new Uint8Array(47)]),
      { address: "192.0.2.9", port: 1 },
      1n,
      REFERENCE as never,
      () => 2n,
    );
    assert.equal(plain?.length, 48);
  },
});

Deno.test({
  name:
    "NTS server: rotated keys still open older cookies; after KEPT_KEYS rotations the client gets a NAK",
  ignore,
  fn() {
    const keys = new NtsServerKeys(null, quiet);
    const r = responder(keys);
    const client = clientOf(keys);
    keys.rotate();
    const after1 = exchange(r, client);
    assert.ok(after1.ok, "a cookie under the previous key still opens");
    const fresh = clientOf(keys);
    for (let i = 0; i < KEPT_KEYS; i++) keys.rotate();
    const v = exchange(r, fresh);
    assert.equal(v.ok, false);
    if (!v.ok) assert.equal(v.error.kind, "nts-nak");
    assert.equal(fresh.needsKeyEstablishment, true);
  },
});

Deno.test({
  name:
    "NTS server: a restarted server with ntsdumpdir keeps its keys; a tampered request gets no normal reply",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nts-keys-" });
    try {
      const first = new NtsServerKeys(dir, quiet);
      const client = clientOf(first);
      await waitForFile(`${dir}/ntskeys`); // the atomic write
      assert.equal((await Deno.stat(`${dir}/ntskeys`)).mode! & 0o777, 0o600);
      const second = new NtsServerKeys(dir, quiet);
      assert.deepEqual(second.keys, first.keys);
      assert.ok(exchange(responder(second), client).ok);
      // Tampered: one bit of the authenticator flipped; the responder sends a NAK, never a
      // normal reply, and the NAK is unauthenticated (the client re-keys).
      const header = { ...emptyPacket(NtpMode.Client), transmitTime: 7n };
      const request = client.buildRequest(header)!;
      request[request.length - 3] ^= 0x10;
      const reply = responder(second).respond(
        request,
        { address: "192.0.2.9", port: 1 },
        1n,
        REFERENCE as never,
        () => 2n,
      );
      assert.ok(reply !== null);
      assert.equal(reply[1], 0, "stratum 0 (KoD)");
      assert.equal(new TextDecoder().decode(reply.subarray(12, 16)), "NTSN");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("NTS server key file fuzz: random and mutated text never throws", () => {
  const good = encodeKeySet({ keys: [{ id: 5, key: new Uint8Array(32).fill(9) }], created: 100 });
  assert.deepEqual(decodeKeySet(good)?.keys[0].id, 5);
  for (let i = 0; i < 3000; i++) {
    const chars = good.split("");
    for (let e = 0; e < 1 + (i % 6); e++) {
      chars[Math.floor(rnd() * chars.length)] = '{}[]":,0a9xz-'[Math.floor(rnd() * 13)];
    }
    const text = i % 3 === 0
      ? new TextDecoder().decode(random(Math.floor(rnd() * 200)))
      : chars.join("");
    const r = decodeKeySet(text);
    if (r !== null) assert.ok(r.keys.every((k) => k.key.length === 32));
  }
  assert.equal(decodeKeySet("x".repeat(5000)), null);
});

Deno.test({
  name:
    "NTS server fuzz: mutated NTS requests never throw, and no reply is longer than its request",
  ignore,
  fn() {
    const keys = new NtsServerKeys(null, quiet);
    const r = responder(keys);
    let replies = 0;
    for (let i = 0; i < 1500; i++) {
      const client = clientOf(keys);
      // Ask for 0..7 extra cookies by spending some first (fewer placeholders).
      for (let k = 0; k < i % 8; k++) {
        client.buildRequest({ ...emptyPacket(NtpMode.Client), transmitTime: 1n });
      }
      const request = client.buildRequest({ ...emptyPacket(NtpMode.Client), transmitTime: 9n })!;
      const mutated = request.slice();
      if (i % 3 !== 0) {
        for (let e = 0; e < 1 + (i % 5); e++) {
          mutated[Math.floor(rnd() * mutated.length)] = Math.floor(rnd() * 256);
        }
      }
      const cut = i % 7 === 0
        ? mutated.subarray(0, 48 + Math.floor(rnd() * (mutated.length - 48)))
        : mutated;
      const reply = r.respond(
        cut,
        { address: "192.0.2.9", port: 1 },
        1n,
        REFERENCE as never,
        () => 2n,
      );
      if (reply !== null) {
        replies++;
        assert.ok(reply.length <= cut.length, `reply ${reply.length} > request ${cut.length}`);
      }
    }
    assert.ok(replies > 400, `${replies} replies`);
  },
});

/** Waits (up to 5 s) until `path` exists: the atomic write runs in the background. */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`${path} was not written`);
}
