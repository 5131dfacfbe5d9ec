/**
 * Whole-configuration checks that no single directive can make: settings that are valid
 * alone but have no effect together. They produce warnings (chronyd accepts these too).
 *
 * @module
 */
import type { Config } from "./model.ts";
import { parseIpAddress } from "./subnet.ts";
import { checkRefclockLocks } from "./refclock_options.ts";

function isLoopback(address: string): boolean {
  const a = parseIpAddress(address);
  if (a === null) return false;
  if (a.family === 4) return a.bytes[0] === 127;
  return a.bytes.every((b, i) => (i === 15 ? b === 1 : b === 0));
}

/** Warnings about combinations of settings that cannot do what they seem to ask. */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  const keyed = config.sources.filter((s) => s.params.key !== null);
  if (keyed.length > 0 && config.keyFile === null) {
    out.push(
      `source ${keyed[0].name} uses key ${keyed[0].params.key} but no keyfile is configured`,
    );
  }
  if (config.port === 0 && config.ntpAccess.some((r) => r.allow)) {
    out.push("allow has no effect with port 0 (the NTP server port is never opened)");
  }
  if (
    config.cmdAccess.some((r) => r.allow) &&
    (config.cmdPort === 0 || config.bindCmdAddresses.every(isLoopback))
  ) {
    out.push(
      "cmdallow has no effect while the command port listens only on loopback " +
        "(add bindcmdaddress 0.0.0.0 and/or ::, and a non-zero cmdport)",
    );
  }
  out.push(...checkRefclockLocks(config.refclocks));
  if (config.rtcAutoTrim > 0 && config.rtcFile === null) {
    out.push("rtcautotrim has no effect without rtcfile");
  }
  const metricsAddress = config.bindMetricsAddress ?? "127.0.0.1";
  if ((config.metricsPort ?? 0) > 0 && !isLoopback(metricsAddress)) {
    out.push(
      `metrics endpoint on ${metricsAddress}: anyone who can reach it reads the daemon's state`,
    );
  }
  if (config.smoothTime) {
    out.push(
      "smoothtime: the time served to clients is deliberately not the best estimate; its " +
        "clients must not mix this server with unsmoothed ones (RFC 8633)",
    );
    if (config.smoothTime.leapOnly && config.leapSecMode !== "slew") {
      out.push("smoothtime leaponly: use leapsecmode slew (a clock step resets the smoothing)");
    }
    if (config.ntpAccess.length === 0) out.push("smoothtime has no effect without allow");
  }
  if (config.logKinds.length > 0 && config.logDir === null) {
    out.push("log has no effect without logdir");
  }
  return out;
}
