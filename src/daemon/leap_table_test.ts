import assert from "node:assert/strict";
import {
  leapForDay,
  loadLeapTable,
  parseLeapSecondsList,
  parseTzifLeaps,
  passesLeapCheck,
} from "./leap_table.ts";
import type { LogLevel } from "../base/ports.ts";

const RIGHT_UTC = "/usr/share/zoneinfo/right/UTC";
const LIST = "/usr/share/zoneinfo/leap-seconds.list";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const DAY = 86400;
const JUN_30_2012 = 1341014400;
const DEC_31_2016 = 1483142400;

Deno.test({
  name: "right/UTC: 27 leap seconds, the last at the end of 2016, TAI - UTC 37 since",
  ignore: !exists(RIGHT_UTC),
  fn() {
    const entries = parseTzifLeaps(Deno.readFileSync(RIGHT_UTC));
    assert.equal(entries.length, 27);
    assert.deepEqual(entries[0], { at: 78796800, tai: 11 }); // 1972-07-01
    assert.deepEqual(entries.at(-1), { at: DEC_31_2016 + DAY, tai: 37 });
    assert.ok(passesLeapCheck(entries));
    assert.deepEqual(leapForDay(entries, DEC_31_2016 + 3600), { leap: 1, tai: 36 });
    assert.deepEqual(leapForDay(entries, DEC_31_2016 + DAY + 10), { leap: 0, tai: 37 });
    assert.deepEqual(leapForDay(entries, DEC_31_2016 - DAY), { leap: 0, tai: 36 });
  },
});

Deno.test({
  name: "leap-seconds.list says the same as right/UTC, with its expiry",
  ignore: !exists(LIST) || !exists(RIGHT_UTC),
  fn() {
    const list = parseLeapSecondsList(Deno.readTextFileSync(LIST));
    const tz = parseTzifLeaps(Deno.readFileSync(RIGHT_UTC));
    assert.ok(list.expiry !== null && list.expiry > DEC_31_2016);
    assert.ok(passesLeapCheck(list.entries));
    for (let t = 63072000; t < DEC_31_2016 + 10 * DAY; t += DAY) {
      assert.deepEqual(leapForDay(list.entries, t), leapForDay(tz, t), `day ${t}`);
    }
  },
});

Deno.test("a list with a leap second at the end of 2012-06-30 passes chronyd's check", () => {
  const text = "#@\t3976214400\n2272060800\t10\t# 1 Jan 1972\n" +
    "3550089600\t35\t# 1 Jul 2012\n3644697600\t36\t# 1 Jul 2015\n";
  const { entries, expiry } = parseLeapSecondsList(text);
  assert.equal(expiry, 3976214400 - 2208988800);
  assert.equal(leapForDay(entries, JUN_30_2012).leap, 1);
  assert.ok(!passesLeapCheck(entries.slice(0, 1)));
  assert.throws(() => parseLeapSecondsList("# nothing\n"), /no leap seconds/);
  assert.throws(() => parseLeapSecondsList("abc 10\n"), /line 1/);
  // A decreasing TAI - UTC is a deleted second.
  assert.equal(leapForDay([{ at: DAY, tai: 10 }, { at: 2 * DAY, tai: 9 }], DAY + 5).leap, 2);
});

Deno.test("loadLeapTable: a zone failing the check is ignored with chronyd's warning", () => {
  const logs: [LogLevel, string][] = [];
  const log = { log: (level: LogLevel, message: string) => logs.push([level, message]) };
  const none = loadLeapTable({ leapSecTz: "right/UTC", leapSecList: null }, log, {
    readFile: () => new TextEncoder().encode("TZif2 but not really a zone file at all........"),
  });
  assert.equal(none, null);
  assert.deepEqual(logs.at(-1), [
    "warning",
    "Timezone right/UTC failed leap second check, ignoring",
  ]);
  assert.throws(
    () =>
      loadLeapTable({ leapSecTz: null, leapSecList: "/x" }, log, {
        readFile: () => new TextEncoder().encode("garbage\n"),
      }),
    /leapseclist \/x: line 1/,
  );
  assert.equal(loadLeapTable({ leapSecTz: null, leapSecList: null }, log), null);
});

Deno.test({
  name: "loadLeapTable(right/UTC): the hook answers insert on 2016-12-31 and logs as chronyd",
  ignore: !exists(RIGHT_UTC),
  fn() {
    const logs: string[] = [];
    const table = loadLeapTable({ leapSecTz: "right/UTC", leapSecList: null }, {
      log: (_l, m) => logs.push(m),
    })!;
    assert.equal(table(BigInt(DEC_31_2016 + 100) * 1_000_000_000n), 1);
    assert.equal(table(BigInt(DEC_31_2016 - 100) * 1_000_000_000n), 0);
    assert.deepEqual(logs, ["Using right/UTC timezone to obtain leap second data"]);
  },
});
