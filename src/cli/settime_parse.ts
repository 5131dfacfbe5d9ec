/**
 * Parses the time an operator types for `settime`, as chronyc's getdate accepts the usual
 * forms: "16:30", "16:30:05" (today), "Nov 24, 2026 16:30:05", "24 Nov 2026 16:30",
 * ISO 8601 ("2026-11-24T16:30:05Z", "2026-11-24 16:30:05", with an optional offset) and
 * "@SECONDS". Without a zone the time is local time (TZ), like chronyc; "UTC", "GMT" or "Z"
 * make it UTC. Never throws.
 *
 * @module
 */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface Parts {
  year: number;
  month: number; // 0-11
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Minutes east of UTC, or null for local time. */
  zoneMinutes: number | null;
}

function build(p: Parts): bigint | null {
  if (
    p.month < 0 || p.month > 11 || p.day < 1 || p.day > 31 || p.hour > 23 || p.minute > 59 ||
    p.second > 60
  ) {
    return null;
  }
  let ms: number;
  if (p.zoneMinutes === null) {
    const d = new Date(p.year, p.month, p.day, p.hour, p.minute, p.second);
    if (d.getDate() !== p.day) return null;
    ms = d.getTime();
  } else {
    ms = Date.UTC(p.year, p.month, p.day, p.hour, p.minute, p.second) - p.zoneMinutes * 60_000;
    if (new Date(Date.UTC(p.year, p.month, p.day)).getUTCDate() !== p.day) return null;
  }
  if (!Number.isFinite(ms)) return null;
  return BigInt(ms) * 1_000_000n + BigInt(p.nanos);
}

function parseTime(token: string): [number, number, number, number] | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(token);
  if (!m) return null;
  const nanos = m[4] ? Number(m[4].padEnd(9, "0")) : 0;
  return [Number(m[1]), Number(m[2]), m[3] ? Number(m[3]) : 0, nanos];
}

function parseZone(token: string): number | null {
  const t = token.toUpperCase();
  if (t === "Z" || t === "UTC" || t === "GMT" || t === "UT") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(token);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

/**
 * Parses `text` into an instant (bigint ns since the epoch), or null if it is not a time.
 * `now` supplies today's date for time-only input.
 */
export function parseSettime(text: string, now: Date = new Date()): bigint | null {
  const input = text.trim();
  if (input === "") return null;
  const epoch = /^@(-?\d+)$/.exec(input);
  if (epoch) return BigInt(epoch[1]) * 1_000_000_000n;

  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$/i
      .exec(input);
  if (iso) {
    return build({
      year: Number(iso[1]),
      month: Number(iso[2]) - 1,
      day: Number(iso[3]),
      hour: Number(iso[4] ?? 0),
      minute: Number(iso[5] ?? 0),
      second: Number(iso[6] ?? 0),
      nanos: iso[7] ? Number(iso[7].padEnd(9, "0")) : 0,
      zoneMinutes: iso[8] ? parseZone(iso[8]) : null,
    });
  }

  const tokens = input.split(/[\s,]+/).filter((t) => t !== "");
  let time: [number, number, number, number] | null = null;
  let month: number | null = null;
  let day: number | null = null;
  let year: number | null = null;
  let zone: number | null = null;
  let pm: boolean | null = null;
  for (const token of tokens) {
    const lower = token.toLowerCase();
    const t = parseTime(token);
    if (t !== null && time === null) {
      time = t;
      continue;
    }
    if (lower === "am" || lower === "pm") {
      pm = lower === "pm";
      continue;
    }
    const z = parseZone(token);
    if (z !== null && !/^\d+$/.test(token)) {
      zone = z;
      continue;
    }
    const mi = MONTHS.indexOf(lower.slice(0, 3));
    if (/^[a-z]+\.?$/.test(lower) && mi >= 0 && month === null) {
      month = mi;
      continue;
    }
    if (/^[a-z]+,?$/.test(lower) && WEEKDAYS.includes(lower.slice(0, 3))) continue;
    if (/^\d{4}$/.test(token) && year === null) {
      year = Number(token);
      continue;
    }
    if (/^\d{1,2}(st|nd|rd|th)?$/.test(lower) && day === null) {
      day = parseInt(lower, 10);
      continue;
    }
    return null;
  }
  if (time === null) return null;
  let [hour, minute, second, nanos] = time;
  if (pm !== null) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  const useUtc = zone !== null;
  const base = {
    year: useUtc ? now.getUTCFullYear() : now.getFullYear(),
    month: useUtc ? now.getUTCMonth() : now.getMonth(),
    day: useUtc ? now.getUTCDate() : now.getDate(),
  };
  if ((month === null) !== (day === null)) return null;
  return build({
    year: year ?? base.year,
    month: month ?? base.month,
    day: day ?? base.day,
    hour,
    minute,
    second,
    nanos,
    zoneMinutes: zone,
  });
}
