/**
 * Directives of the network edges: NTP and command ports, bind addresses and devices, DSCP,
 * access rules, rate limiting, the client log and the metrics endpoint.
 *
 * @module
 */
import { DEFAULT_RATE_LIMIT } from "./defaults.ts";
import {
  arity,
  type DirectiveHandler,
  type DirectiveSink,
  type DirectiveTable,
  flagField,
  num,
  numberField,
  setBindAddress,
} from "./directive_kit.ts";
import type { AccessRule } from "./model.ts";
import { canonicalIp, parseSubnet } from "./subnet.ts";
import type { NumberSpec } from "./values.ts";

/** Parses `[all] [subnet]` of allow/deny/cmdallow/cmddeny into a rule, or null on error. */
export function parseAccessArgs(
  directive: string,
  allow: boolean,
  args: string[],
  sink: DirectiveSink,
): AccessRule | null {
  let rest = args;
  let all = false;
  if (rest.length > 0 && rest[0].toLowerCase() === "all") {
    all = true;
    rest = rest.slice(1);
  }
  if (rest.length > 1) {
    sink.error(`${directive}: too many arguments ('${rest.slice(1).join(" ")}')`);
    return null;
  }
  if (rest.length === 0) return { allow, subnet: "all", all };
  const s = parseSubnet(rest[0]);
  if (!s.ok) {
    sink.error(`${directive}: ${s.error}`);
    return null;
  }
  return { allow, subnet: s.value, all };
}

function accessHandler(
  list: "ntpAccess" | "cmdAccess",
  allow: boolean,
  name: string,
): DirectiveHandler {
  return (config, args, sink) => {
    const rule = parseAccessArgs(name, allow, args, sink);
    if (rule !== null) config[list].push(rule);
  };
}

/** binddevice/bindacqdevice/bindcmddevice: an interface name (SO_BINDTODEVICE). */
function deviceField(
  directive: string,
  field: "bindDevice" | "bindAcqDevice" | "bindCmdDevice",
): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, directive, args, 1, 1)) return;
    const name = args[0];
    if (name.length === 0 || new TextEncoder().encode(name).length > 15 || /[\s/]/.test(name)) {
      sink.error(`${directive}: invalid interface name '${name}' (1 to 15 bytes)`);
      return;
    }
    config[field] = name;
  };
}

/** xdpserver IFACE...: interfaces where the kernel answers plain requests (added to the list). */
function xdpServer(): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, "xdpserver", args, 1, 64)) return;
    for (const name of args) {
      if (name.length === 0 || new TextEncoder().encode(name).length > 15 || /[\s/]/.test(name)) {
        sink.error(`xdpserver: invalid interface name '${name}' (1 to 15 bytes)`);
        return;
      }
    }
    const list = config.xdpServer ?? [];
    for (const name of args) if (!list.includes(name)) list.push(name);
    config.xdpServer = list;
  };
}

/** bindaddress/bindacqaddress: an IP address replacing the one of its family in the list. */
function bindAddress(name: string, field: "bindAddresses" | "bindAcqAddresses"): DirectiveHandler {
  return (config, args, sink) => {
    if (!arity(sink, name, args, 1, 1)) return;
    const ip = canonicalIp(args[0]);
    if (ip === null) {
      sink.error(`${name}: invalid address '${args[0]}'`);
      return;
    }
    config[field] = setBindAddress(config[field] ?? [], ip);
  };
}

/** Handlers of the network directives. */
export const NETWORK_DIRECTIVES: DirectiveTable = {
  port: numberField("port", { int: true, min: 0, max: 65535 }),
  bindaddress: bindAddress("bindaddress", "bindAddresses"),
  bindacqaddress: bindAddress("bindacqaddress", "bindAcqAddresses"),
  binddevice: deviceField("binddevice", "bindDevice"),
  bindacqdevice: deviceField("bindacqdevice", "bindAcqDevice"),
  bindcmddevice: deviceField("bindcmddevice", "bindCmdDevice"),
  dscp: numberField("dscp", { int: true, min: 0, max: 63 }),
  xdpserver: xdpServer(),
  xdpmode: (config, args, sink) => {
    if (!arity(sink, "xdpmode", args, 1, 1)) return;
    const mode = args[0].toLowerCase();
    if (mode !== "auto" && mode !== "native" && mode !== "generic" && mode !== "tc") {
      sink.error(`xdpmode: '${args[0]}' is not auto, native, generic or tc`);
      return;
    }
    config.xdpMode = mode;
  },
  allow: accessHandler("ntpAccess", true, "allow"),
  deny: accessHandler("ntpAccess", false, "deny"),
  ratelimit: (config, args, sink) => {
    const rl = { ...DEFAULT_RATE_LIMIT };
    const specs: Record<string, NumberSpec> = {
      interval: { int: true, min: -19, max: 12 },
      burst: { int: true, min: 1, max: 255 },
      leak: { int: true, min: 1, max: 4 },
      kod: { int: true, min: 0, max: 4 },
    };
    for (let i = 0; i < args.length; i += 2) {
      const option = args[i].toLowerCase();
      const spec = Object.hasOwn(specs, option) ? specs[option] : undefined;
      if (spec === undefined) {
        sink.error(`ratelimit: unknown option '${args[i]}'`);
        return;
      }
      const v = num(sink, "ratelimit", args[i + 1], spec, option);
      if (v === null) return;
      (rl as Record<string, number>)[option] = v;
    }
    config.rateLimit = rl;
  },
  clientloglimit: numberField("clientLogLimit", { int: true, min: 1, max: 2147483648 }),
  noclientlog: flagField("noClientLog"),
  cmdport: numberField("cmdPort", { int: true, min: 0, max: 65535 }),
  bindcmdaddress: (config, args, sink) => {
    if (!arity(sink, "bindcmdaddress", args, 1, 1)) return;
    const a = args[0];
    if (a.startsWith("/")) {
      config.cmdSocket = a === "/" ? null : a;
      return;
    }
    const ip = canonicalIp(a);
    if (ip === null) {
      sink.error(`bindcmdaddress: invalid address '${a}' (an IP address or an absolute path)`);
      return;
    }
    config.bindCmdAddresses = setBindAddress(config.bindCmdAddresses, ip);
  },
  cmdallow: accessHandler("cmdAccess", true, "cmdallow"),
  cmddeny: accessHandler("cmdAccess", false, "cmddeny"),
  acquisitionport: (config, args, sink) => {
    // tempus sends each request from its own socket on a random port (chrony's default,
    // acquisitionport 0); one fixed port for all requests is not implemented: an error
    // rather than a setting silently ignored.
    if (!arity(sink, "acquisitionport", args, 1, 1)) return;
    const v = num(sink, "acquisitionport", args[0], { int: true, min: 0, max: 65535 });
    if (v === null) return;
    if (v !== 0) {
      sink.error(
        "acquisitionport: a fixed client port is not supported (tempus uses a random port " +
          "per request, as acquisitionport 0)",
      );
      return;
    }
    config.acquisitionPort = v;
  },
  metricsport: numberField("metricsPort", { int: true, min: 0, max: 65535 }),
  bindmetricsaddress: (config, args, sink) => {
    if (!arity(sink, "bindmetricsaddress", args, 1, 1)) return;
    const ip = canonicalIp(args[0]);
    if (ip === null) {
      sink.error(`bindmetricsaddress: invalid address '${args[0]}' (an IP address)`);
      return;
    }
    config.bindMetricsAddress = ip;
  },
};
