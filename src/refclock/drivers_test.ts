import assert from "node:assert/strict";
import { silentLog } from "../base/ports.ts";
import { ShmSegment } from "../../ffi/shm.ts";
import { encodeSockSample } from "./sock_sample.ts";
import { openSockRefclock } from "./sock_driver.ts";
import { openShmRefclock } from "./shm_driver.ts";
import { encodeShmTime, SHM_KEY_BASE, SHM_TIME_SIZE, SHM_VALID_OFFSET } from "./shm_time.ts";

const T = 1_750_000_000_000_000_000n;

Deno.test("SOCK driver: samples from a datagram socket reach the sink, garbage does not", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/chrony.test.sock`;
  const got: [bigint, number, number][] = [];
  const pulses: [bigint, number][] = [];
  const h = openSockRefclock(
    path,
    (t, o, l) => got.push([t, o, l]),
    silentLog,
    (t, s) => pulses.push([t, s]),
  );
  const client = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/client.sock` });
  const to = { transport: "unixpacket" as const, path };
  await client.send(new Uint8Array(40), to);
  await client.send(encodeSockSample({ time: T, offset: 0.5, pulse: false, leap: 0 }), to);
  await client.send(encodeSockSample({ time: T, offset: 0.25, pulse: true, leap: 0 }), to);
  for (let i = 0; i < 50 && h.accepted + h.rejected < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(got, [[T, 0.5, 0]]);
  assert.deepEqual(pulses, [[T, 0.25]]);
  assert.equal(h.rejected, 1);
  h.close();
  client.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SOCK driver: refuses to replace a file that is not a socket", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/precious`;
  await Deno.writeTextFile(path, "keep me");
  assert.throws(() => openSockRefclock(path, () => {}, silentLog), /not a socket/);
  assert.equal(await Deno.readTextFile(path), "keep me");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SHM driver: a mode 1 sample is read once and valid is cleared", async () => {
  const unit = 200 + Math.floor(Math.random() * 50);
  const writer = ShmSegment.attach(SHM_KEY_BASE + unit, SHM_TIME_SIZE, 0o600);
  const got: number[] = [];
  const h = openShmRefclock(unit, 0o600, -3, (_t, o) => got.push(o), silentLog);
  writer.write(encodeShmTime({
    mode: 1,
    count: 5,
    clockTime: T + 250_000_000n,
    receiveTime: T,
    leap: 0,
    precision: -20,
    valid: 1,
  }));
  await new Promise((r) => setTimeout(r, 1300));
  h.close();
  assert.equal(got.length, 1, "read once");
  assert.ok(Math.abs(got[0] - 0.25) < 1e-9);
  assert.equal(writer.int32(SHM_VALID_OFFSET), 0);
  writer.remove();
  writer.detach();
});
