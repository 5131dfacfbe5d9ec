import assert from "node:assert/strict";
import { silentLog } from "../base/ports.ts";
import { clockGettime } from "../../ffi/libc.ts";
import { SerialPort } from "../../ffi/serial.ts";
import { PtyMaster } from "../../tests/helpers/pty.ts";
import { nmeaChecksum } from "./nmea.ts";
import { type NmeaDriverDeps, openNmeaRefclock } from "./nmea_driver.ts";

const realDeps: NmeaDriverDeps = {
  open: (d, b) => SerialPort.open(d, b),
  now: () => clockGettime(0),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

function rmc(utcSeconds: number, status = "A"): string {
  const d = new Date(utcSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  const body = `GPRMC,${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.00,` +
    `${status},4807.038,N,01131.000,E,0.0,0.0,` +
    `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)},,,A`;
  return `$${body}*${nmeaChecksum(body)}\r\n`;
}

async function sleepUntil(unixSeconds: number) {
  const ms = unixSeconds * 1000 - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

async function until(cond: () => boolean, ms: number) {
  for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
}

Deno.test({
  name: "NMEA driver: through a pty, the offset is minus the sentence delay; garbage is dropped",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pty = PtyMaster.open();
    const got: { t: bigint; offset: number }[] = [];
    const h = openNmeaRefclock(
      pty.slave,
      4800,
      (t, offset) => got.push({ t, offset }),
      silentLog,
      realDeps,
    );
    try {
      let second = Math.ceil(Date.now() / 1000) + 1;
      const delays: number[] = [];
      for (let k = 0; k < 4; k++, second++) {
        // The sentence for `second` ends 200 ms after it (later on a loaded machine: the
        // delay actually written is kept); garbage and a no-fix before it.
        await sleepUntil(second + 0.2);
        delays.push(Date.now() / 1000 - second);
        pty.write(`\x00\xffnoise\r\n${rmc(second - 1, "V")}$GPRMC,bad*00\r\n${rmc(second)}`);
        // A ZDA of the same second later in the burst is not taken.
        pty.write(`$GPZDA,${"x"}*00\r\n`);
      }
      await until(() => got.length >= 4, 2000);
      assert.equal(got.length, 4, got.map((g) => g.offset).join(" "));
      got.forEach((s, k) => {
        assert.ok(delays[k] >= 0.19, `written ${delays[k]} s after the second`);
        assert.ok(
          Math.abs(s.offset + delays[k]) < 0.02,
          `offset ${s.offset} (expected -${delays[k].toFixed(3)})`,
        );
      });
      assert.ok(h.rejected >= 8, `rejected ${h.rejected}`);
    } finally {
      h.close();
      await h.done;
      pty.close();
    }
  },
});

Deno.test({
  name: "NMEA driver: a device that disappears and comes back is reopened",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-nmea-" });
    const link = `${dir}/gps0`;
    let pty = PtyMaster.open();
    await Deno.symlink(pty.slave, link);
    const got: number[] = [];
    const lines: string[] = [];
    const log = { log: (_l: string, m: string) => void lines.push(m) };
    const h = openNmeaRefclock(link, 9600, (_t, o) => got.push(o), log, realDeps);
    try {
      const now = () => Math.floor(Date.now() / 1000);
      pty.write(rmc(now()));
      await until(() => got.length === 1, 2000);
      assert.equal(got.length, 1);
      pty.close(); // unplugged
      await until(() => lines.some((l) => /device lost/.test(l)), 2000);
      assert.ok(lines.some((l) => /device lost/.test(l)), lines.join("\n"));
      pty = PtyMaster.open(); // plugged back, under the same name
      await Deno.remove(link);
      await Deno.symlink(pty.slave, link);
      await until(() => lines.some((l) => /device back/.test(l)), 3000);
      assert.ok(lines.some((l) => /device back/.test(l)), lines.join("\n"));
      await new Promise((r) => setTimeout(r, 100));
      pty.write(rmc(now() + 1));
      await until(() => got.length === 2, 2000);
      assert.equal(got.length, 2);
    } finally {
      h.close();
      await h.done;
      pty.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("NMEA driver: a device that cannot be opened fails at start", () => {
  assert.throws(
    () => openNmeaRefclock("/nonexistent/ttyGPS", 9600, () => {}, silentLog, realDeps),
    /ENOENT|No such file/,
  );
});
