import assert from "node:assert/strict";
import {
  FirstOfSecond,
  MAX_NMEA_LINE,
  nmeaChecksum,
  NmeaLineAssembler,
  parseNmeaSentence,
} from "./nmea.ts";

function sentence(body: string): string {
  return `$${body}*${nmeaChecksum(body)}`;
}

const MS = 1_000_000n;

Deno.test("NMEA: the checksum of a well-known sentence", () => {
  // The NMEA reference example (also in gpsd's docs).
  assert.equal(
    nmeaChecksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
    "6A",
  );
});

Deno.test("NMEA: RMC and ZDA give UTC; checksums, fixes and fields are checked", () => {
  const rmc = parseNmeaSentence(
    "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n",
  );
  assert.deepEqual(rmc, {
    ok: true,
    time: { type: "RMC", utc: BigInt(Date.UTC(1994, 2, 23, 12, 35, 19)) * MS },
  });
  const gn = parseNmeaSentence(
    sentence("GNRMC,235959.250,A,4807.038,N,01131.000,E,0.0,0.0,311226,,,A,V"),
  );
  assert.ok(gn.ok);
  assert.equal(gn.time.utc, BigInt(Date.UTC(2026, 11, 31, 23, 59, 59, 250)) * MS);
  const zda = parseNmeaSentence(sentence("GPZDA,080102.50,05,12,2026,00,00"));
  assert.ok(zda.ok);
  assert.equal(zda.time.type, "ZDA");
  assert.equal(zda.time.utc, BigInt(Date.UTC(2026, 11, 5, 8, 1, 2, 500)) * MS);
  const no = (s: string) => {
    const r = parseNmeaSentence(s);
    assert.equal(r.ok, false, s);
    return r.ok ? "" : r.reason;
  };
  assert.equal(
    no("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6B"),
    "bad checksum",
  );
  assert.equal(
    no("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
    "no checksum",
  );
  assert.equal(no(sentence("GPRMC,123519,V,,,,,,,230394,,")), "no fix");
  assert.equal(no(sentence("GPRMC,123519,A,1,N,2,E,0,0,230394,,,N")), "no fix");
  assert.equal(
    no(sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")),
    "other sentence",
  );
  assert.equal(no(sentence("GPRMC,126019,A,1,N,2,E,0,0,230394,,")), "bad field");
  assert.equal(no(sentence("GPRMC,123519,A,1,N,2,E,0,0,310294,,")), "bad field"); // 31 Feb
  assert.equal(no(sentence("GPZDA,080102,5,12,2026,00,00")), "bad field");
  assert.equal(no(sentence("GPZDA,080102")), "bad field");
  assert.equal(no("garbage"), "not a sentence");
  assert.equal(no(sentence("gprmc,1")), "not a sentence");
});

Deno.test("NMEA: lines are stamped with the arrival of their end; garbage and long lines dropped", () => {
  const a = new NmeaLineAssembler();
  assert.deepEqual(a.push(new TextEncoder().encode("\xff\x00junk$GPZDA,1"), 10n), []);
  const lines = a.push(new TextEncoder().encode("2*00\r\n$GPR"), 20n);
  assert.deepEqual(lines, [{ line: "$GPZDA,12*00", received: 20n }]);
  assert.deepEqual(a.push(new TextEncoder().encode("MC\n"), 30n), [{
    line: "$GPRMC",
    received: 30n,
  }]);
  a.push(new Uint8Array(MAX_NMEA_LINE * 3).fill(0x41), 40n);
  assert.deepEqual(a.push(new TextEncoder().encode("\n$X\n"), 50n), [{
    line: "$X",
    received: 50n,
  }]);
  assert.equal(a.dropped, 1);
});

Deno.test("NMEA: only the first time sentence of a second is taken", () => {
  const f = new FirstOfSecond();
  assert.ok(f.take(5_000_000_000n));
  assert.equal(f.take(5_500_000_000n), false);
  assert.ok(f.take(6_000_000_000n));
  assert.ok(f.take(2_000_000_000n)); // a receiver restart going back is a new second
});

Deno.test("NMEA fuzz: random and mutated sentences never throw; the assembler stays bounded", () => {
  let seed = 4242;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const base = [
    sentence("GPRMC,235959.250,A,4807.038,N,01131.000,E,0.0,0.0,311226,,,A"),
    sentence("GPZDA,080102.50,05,12,2026,00,00"),
  ];
  const a = new NmeaLineAssembler();
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    let s: string;
    if (rnd() < 0.5) {
      const chars = [...base[i % 2]];
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) {
        chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 256));
      }
      s = chars.join("");
    } else {
      s = Array.from(
        { length: Math.floor(rnd() * 200) },
        () => String.fromCharCode(Math.floor(rnd() * 256)),
      ).join("");
    }
    const r = parseNmeaSentence(s);
    if (r.ok) {
      parsed++;
      assert.equal(typeof r.time.utc, "bigint");
    } else assert.equal(typeof r.reason, "string");
    const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
    for (const line of a.push(bytes, BigInt(i))) {
      assert.ok(line.line.length <= MAX_NMEA_LINE);
      parseNmeaSentence(line.line);
    }
  }
  // Mutations that hit only a field's digits can keep the checksum valid by chance: rare.
  assert.ok(parsed < 2000, `${parsed} mutated sentences parsed`);
});
