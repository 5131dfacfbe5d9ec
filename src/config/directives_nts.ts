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

function nts(config: Config): NtsConfig {
  config.nts ??= defaultNtsConfig();
  return config.nts;
}

function pathList(field: "serverKeys" | "serverCerts", name: string): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, name, args, 1, 1)) return;
    nts(config)[field].push(args[0]);
  };
}

function seconds(field: "refresh" | "rotate", name: string): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, name, args, 1, 1)) return;
    const v = num(sink, name, args[0], { int: true, min: 0, max: 2 ** 31 - 1 });
    if (v !== null) nts(config)[field] = v;
  };
}

/** The NTS directives, by name. */
export const NTS_DIRECTIVES: DirectiveTable = {
  ntsdumpdir: (config, args, sink) => {
    if (!arity(sink, "ntsdumpdir", args, 1, 1)) return;
    nts(config).dumpDir = args[0];
  },
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
    if (!arity(sink, "nosystemcert", args, 0, 0)) return;
    nts(config).noSystemCert = true;
  },
  nocerttimecheck: (config, args, sink) => {
    if (!arity(sink, "nocerttimecheck", args, 1, 1)) return;
    const v = num(sink, "nocerttimecheck", args[0], { int: true, min: 0, max: 2 ** 31 - 1 });
    if (v !== null) nts(config).noCertTimeCheck = v;
  },
  ntsrefresh: seconds("refresh", "ntsrefresh"),
  ntsrotate: seconds("rotate", "ntsrotate"),
  ntsserverkey: pathList("serverKeys", "ntsserverkey"),
  ntsservercert: pathList("serverCerts", "ntsservercert"),
  ntsport: (config, args, sink) => {
    if (!arity(sink, "ntsport", args, 1, 1)) return;
    const v = num(sink, "ntsport", args[0], { int: true, min: 0, max: 65535 });
    if (v !== null) nts(config).port = v;
  },
  ntsntpserver: (config, args, sink) => {
    if (!arity(sink, "ntsntpserver", args, 1, 1)) return;
    nts(config).ntpServer = args[0];
  },
  ntsprocesses: (config, args, sink) => {
    if (!arity(sink, "ntsprocesses", args, 1, 1)) return;
    const v = num(sink, "ntsprocesses", args[0], { int: true, min: 0, max: 1000 });
    if (v !== null) nts(config).processes = v;
  },
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
