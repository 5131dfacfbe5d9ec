/**
 * `tempus query SERVER[:PORT]`: measure one server a few times and print what it says (like
 * sntp/ntpdig). Never touches the clock. Exit 0 with at least one good measurement, 1 when
 * the server does not answer, answers garbage or sends a Kiss-o'-Death, 2 on usage errors.
 *
 * @module
 */
import { MEASURE_OPTIONS, parseCommandArgs } from "./command_args.ts";
import { systemTimeSource } from "../clock/kernel_ops.ts";
import type { SocketAddress } from "../base/ports.ts";
import { joinHostPort, resolveHost, splitHostPort } from "../io/dns.ts";
import { runBurst, warmUp } from "../sync/burst.ts";
import { ntsTarget, type OneShotNts } from "../sync/nts_one_shot.ts";
import {
  describeKiss,
  formatDuration,
  formatSeconds,
  measurementLine,
  measurementToJson,
  serverDetails,
} from "../sync/report.ts";

const USAGE = `Usage: tempus query SERVER[:PORT] [options]

Measures one NTP server and prints offset (server minus local clock), delay, stratum,
refid, leap, root delay/dispersion, precision and poll. Never touches the clock.

  -c, --count N      exchanges to make (default 1); the lowest-delay one is summarised
  --timeout S        seconds to wait for each reply (default 2)
  -4 / -6            resolve names to IPv4 / IPv6 only
  --nts              authenticate with NTS (RFC 8915): NTS-KE first, which names the NTP
                     server and port; the certificate must match SERVER
  --nts-port N       NTS-KE port (default 4460)
  --nts-ca FILE      trust this CA file too (besides the system's certificates)
  --json             one JSON object on stdout
  -h, --help         this text

SERVER may be a name, an IPv4 address, or an IPv6 address in brackets: [::1]:123

Exit status: 0 measured; 1 no reply, invalid replies or Kiss-o'-Death; 2 usage error.`;

/** Runs `tempus query`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("query", USAGE, {
    args,
    allowPositionals: true,
    options: {
      count: { type: "string", short: "c" },
      ...MEASURE_OPTIONS,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error("tempus query: expected exactly one SERVER[:PORT] (see tempus query --help)");
    return 2;
  }
  const count = values.count === undefined ? 1 : Number(values.count);
  const timeout = values.timeout === undefined ? 2 : Number(values.timeout);
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    console.error("tempus query: --count must be an integer from 1 to 100");
    return 2;
  }
  if (!(timeout > 0 && timeout <= 60)) {
    console.error("tempus query: --timeout must be a number of seconds in (0, 60]");
    return 2;
  }
  const target = splitHostPort(positionals[0], 123);
  if (target === null) {
    console.error(`tempus query: cannot parse '${positionals[0]}' as SERVER[:PORT]`);
    return 2;
  }
  const resolved = await resolveHost(target.host, {
    family: values["4"] ? "ipv4" : values["6"] ? "ipv6" : "any",
    timeoutMs: Math.max(1000, timeout * 1000),
  });
  if (!resolved.ok) {
    console.error(`tempus query: ${resolved.error}`);
    return 1;
  }
  let server: SocketAddress = { address: resolved.addresses[0], port: target.port };
  let auth: OneShotNts | null = null;
  if (values.nts) {
    const nts = await ntsTarget(positionals[0], target.host, server.address, values, timeout);
    if (typeof nts === "string") {
      console.error(`tempus query: ${nts}`);
      return nts.startsWith("--") ? 2 : 1;
    }
    ({ server, auth } = nts);
  } else if (values["nts-port"] !== undefined || values["nts-ca"] !== undefined) {
    console.error("tempus query: --nts-port and --nts-ca need --nts");
    return 2;
  }
  const label = joinHostPort(server.address, server.port);
  const clock = systemTimeSource().realtime;
  await warmUp(clock);
  const report = await runBurst(server, {
    count,
    spacingMs: 10,
    retryAfterMs: Math.min(250, timeout * 1000),
    timeoutMs: timeout * 1000,
    clock,
    randomFill: (bytes) => crypto.getRandomValues(bytes),
    auth,
  });
  const best = report.best;
  let problem: string | null = null;
  if (report.kod !== null) {
    problem = `${label} sent Kiss-o'-Death ${report.kod.code} (${describeKiss(report.kod.code)})`;
  } else if (best === null) {
    if (report.error !== null) problem = `cannot send to ${label}: ${report.error}`;
    else if (report.rejected.length > 0) {
      problem = `invalid reply from ${label}: ${report.rejected[0].detail}`;
    } else problem = `no reply from ${label} within ${timeout} s`;
  }
  if (values.json) {
    console.log(JSON.stringify({
      server: target.host,
      address: server.address,
      port: server.port,
      ok: best !== null && report.kod === null,
      nts: auth !== null,
      error: problem,
      kod: report.kod,
      sent: report.sent,
      received: report.samples.length,
      ...(best === null ? {} : measurementToJson(best)),
      samples: report.samples.map((s) => ({ offset: s.offset, delay: s.delay })),
      rejected: report.rejected,
    }));
    return problem === null ? 0 : 1;
  }
  if (problem !== null) {
    console.error(`tempus query: ${problem}`);
    return 1;
  }
  if (best === null) return 1;
  if (report.samples.length > 1) {
    for (const s of report.samples) console.log(measurementLine(s));
  }
  console.log(
    `${label}: offset ${formatSeconds(best.offset)} s, delay ${formatDuration(best.delay)} s` +
      (report.samples.length > 1
        ? ` (lowest delay of ${report.samples.length}/${report.sent})`
        : ""),
  );
  for (const line of serverDetails(best)) console.log(line);
  return 0;
}
