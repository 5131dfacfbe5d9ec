import assert from "node:assert/strict";
import { decodeReply, decodeRequestHeader, encodeRequest } from "./codec.ts";
import { requestLength } from "./messages.ts";
import { isRequestCode } from "./requests.ts";
import { handleCommand } from "./server.ts";
import { FakeControl, PRIVILEGED_METHODS } from "../../tests/helpers/fake_control.ts";

function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function check(packet: Uint8Array, full: boolean, control: FakeControl): void {
  let reply: Uint8Array | null = null;
  try {
    reply = handleCommand(packet, { full }, control);
  } catch (error) {
    assert.fail(`handleCommand threw: ${error}`);
  }
  if (reply !== null) assert.ok(reply.length <= packet.length);
}

Deno.test("fuzz: random packets never throw, never amplify, never reach privileged methods over UDP", () => {
  const rand = makeRandom(20261124);
  const control = new FakeControl();
  for (let i = 0; i < 20000; i++) {
    const length = Math.floor(rand() * 900);
    const packet = new Uint8Array(length);
    for (let j = 0; j < length; j++) packet[j] = Math.floor(rand() * 256);
    if (length > 1 && rand() < 0.7) {
      packet[0] = 6;
      packet[1] = 1;
      packet[2] = 0;
      packet[3] = 0;
      packet[4] = 0;
      packet[5] = Math.floor(rand() * 80);
    }
    check(packet, false, control);
  }
  assert.ok(!control.methods().some((m) => PRIVILEGED_METHODS.has(m)), control.methods().join());
});

Deno.test("fuzz: mutated and truncated valid requests of every command", () => {
  const rand = makeRandom(7);
  const udp = new FakeControl();
  const unix = new FakeControl();
  for (let command = 0; command < 75; command++) {
    const full = requestLength(command);
    if (full === 0 || !isRequestCode(command)) continue;
    const base = encodeRequest({ command, sequence: 1 });
    for (let i = 0; i < 200; i++) {
      const packet = base.slice(0, Math.floor(rand() * (full + 40)));
      for (let k = 0; k < 4; k++) {
        const at = 20 + Math.floor(rand() * Math.max(1, packet.length - 20));
        if (at < packet.length) packet[at] = Math.floor(rand() * 256);
      }
      check(packet, false, udp);
      check(packet, true, unix);
    }
  }
  assert.ok(!udp.methods().some((m) => PRIVILEGED_METHODS.has(m)));
  assert.ok(unix.methods().some((m) => PRIVILEGED_METHODS.has(m)), "full access does run them");
});

Deno.test("fuzz: reply and request decoders never throw", () => {
  const rand = makeRandom(99);
  for (let i = 0; i < 20000; i++) {
    const length = Math.floor(rand() * 600);
    const packet = new Uint8Array(length);
    for (let j = 0; j < length; j++) packet[j] = Math.floor(rand() * 256);
    if (length > 8 && rand() < 0.8) {
      packet[0] = 6;
      packet[1] = 2;
      packet[2] = 0;
      packet[3] = 0;
      packet[6] = 0;
      packet[7] = Math.floor(rand() * 30);
    }
    try {
      decodeReply(packet);
      decodeRequestHeader(packet);
    } catch (error) {
      assert.fail(`decoder threw: ${error}`);
    }
  }
});
