/**
 * Directives of Network Time Security (chrony 4.x, chrony.conf(5)): the client's trust
 * anchors and cookie dump directory, the NTS-KE server's keys, certificates, port, key
 * rotation, rate limit and NTP server name. The `nts` and `ntsport` source options are in
 * source_options.ts.
 *
 * @module
 */
import { arity, type DirectiveHandler, type DirectiveTable, num } from "./directive_kit.ts";
import type { Config } from "./model.ts";
import { defaultNtsConfig, type NtsConfig } from "./nts_config.ts";
import type { NumberSpec } from "./values.ts";

function nts(config: Config): NtsConfig {
  config.nts ??= defaultNtsConfig();
  return config.nts;
}

function pathList(field: "serverKeys" | "serverCerts", name: string): DirectiveHandler {
  return (config, args, sink) => {
    if (arity(sink, name, args, 1, 1)) nts(config)[field].push(args[0]);
  };
}

function text(field: "dumpDir" | "ntpServer", name: string): DirectiveHandler {
  return (config, args, sink) => {
    if (arity(sink, name, args, 1, 1)) nts(config)[field] = args[0];
  };
}

function number(field: NumberField, name: string, spec: NumberSpec): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, name, args, 1, 1)) return;
    const v = num(sink, name, args[0], spec);
    if (v !== null) nts(config)[field] = v;
  };
}

/** The NTS settings that hold a number. */
type NumberField = "noCertTimeCheck" | "refresh" | "rotate" | "port" | "processes";

/** Seconds settings: 0 to 2^31 - 1. */
const SECONDS: NumberSpec = { int: true, min: 0, max: 2 ** 31 - 1 };

/** The NTS directives, by name. */
export const NTS_DIRECTIVES: DirectiveTable = {
  ntsdumpdir: text("dumpDir", "ntsdumpdir"),
  ntstrustedcerts: (config, args, sink) => {
    if (!arity(sink, "ntstrustedcerts", args, 1, 2)) return;
    if (args.length === 2) {
      const set = num(
        sink,
        "ntstrustedcerts",
        args[0],
        { int: true, min: 0, max: 2 ** 32 - 1 },
        "set ID",
      );
      if (set === null) return;
      if (set !== 0) {
        sink.error(
          `ntstrustedcerts: certificate set ${set} needs the 'certset' source option, which tempus does not support`,
        );
        return;
      }
    }
    nts(config).trustedCerts.push(args[args.length - 1]);
  },
  nosystemcert: (config, args, sink) => {
    if (arity(sink, "nosystemcert", args, 0, 0)) nts(config).noSystemCert = true;
  },
  nocerttimecheck: number("noCertTimeCheck", "nocerttimecheck", SECONDS),
  ntsrefresh: number("refresh", "ntsrefresh", SECONDS),
  ntsrotate: number("rotate", "ntsrotate", SECONDS),
  ntsserverkey: pathList("serverKeys", "ntsserverkey"),
  ntsservercert: pathList("serverCerts", "ntsservercert"),
  ntsport: number("port", "ntsport", { int: true, min: 0, max: 65535 }),
  ntsntpserver: text("ntpServer", "ntsntpserver"),
  ntsprocesses: number("processes", "ntsprocesses", { int: true, min: 0, max: 1000 }),
  ntsratelimit: (config, args, sink) => {
    const limit = { interval: 6, burst: 8, leak: 2 };
    if (args.length % 2 !== 0) {
      sink.error(`ntsratelimit: options come in 'name value' pairs`);
      return;
    }
    for (let i = 0; i < args.length; i += 2) {
      const option = args[i].toLowerCase();
      const spec = option === "interval"
        ? { int: true, min: -19, max: 12 }
        : option === "burst"
        ? { int: true, min: 1, max: 255 }
        : option === "leak"
        ? { int: true, min: 0, max: 4 }
        : null;
      if (spec === null) {
        sink.error(`ntsratelimit: unknown option '${args[i]}' (interval, burst, leak)`);
        return;
      }
      const v = num(sink, "ntsratelimit", args[i + 1], spec, option);
      if (v === null) return;
      limit[option as keyof typeof limit] = v;
    }
    nts(config).rateLimit = limit;
  },
};
