/**
 * Directives of broadcast, multicast and manycast: chrony's `broadcast` (with ntpd's `key`
 * and `ttl` as options), ntpd's `broadcastclient`, `multicastclient`, `broadcastdelay`,
 * `manycastserver` and `manycastclient`. Spread into the directive table by directives.ts;
 * `renderBroadcast` writes them back for `tempus config check`.
 *
 * @module
 */
import { arity, type DirectiveSink, type DirectiveTable, num } from "./directive_kit.ts";
import type { Config, SourceParams } from "./model.ts";
import {
  type BroadcastClientConfig,
  type BroadcastConfig,
  DEFAULT_BROADCAST_MAX_SOURCES,
  emptyBroadcastConfig,
  NTP_MULTICAST_V4,
} from "./model_broadcast.ts";
import { parseSourceArgs } from "./source_options.ts";
import { canonicalIp, parseIpAddress } from "./subnet.ts";

/** The config's broadcast part, created on first use. */
function part(config: Config): BroadcastConfig {
  config.broadcast ??= emptyBroadcastConfig();
  return config.broadcast;
}

/** True for a multicast literal: 224.0.0.0/4 or ff00::/8. */
export function isMulticastAddress(text: string): boolean {
  const ip = parseIpAddress(text);
  if (ip === null) return false;
  return ip.family === 4 ? (ip.bytes[0] & 0xf0) === 0xe0 : ip.bytes[0] === 0xff;
}

/** A multicast group argument, canonical; null after an error. */
function group(sink: DirectiveSink, directive: string, text: string): string | null {
  const ip = canonicalIp(text);
  if (ip === null || !isMulticastAddress(ip)) {
    sink.error(`${directive}: '${text}' is not a multicast address (224.0.0.0/4 or ff00::/8)`);
    return null;
  }
  return ip;
}

/** `broadcast INTERVAL ADDRESS [PORT] [key ID] [ttl N]`. */
function broadcastTarget(config: Config, args: string[], sink: DirectiveSink): void {
  if (!arity(sink, "broadcast", args, 2, 7)) return;
  const interval = num(sink, "broadcast", args[0], { int: true, min: 1, max: 65536 }, "interval");
  if (interval === null) return;
  const address = canonicalIp(args[1]);
  if (address === null) {
    sink.error(`broadcast: invalid address '${args[1]}' (an IP literal)`);
    return;
  }
  let rest = args.slice(2);
  let port = 123;
  if (rest.length > 0 && /^\d+$/.test(rest[0])) {
    const p = num(sink, "broadcast", rest[0], { int: true, min: 1, max: 65535 }, "port");
    if (p === null) return;
    port = p;
    rest = rest.slice(1);
  }
  let key: number | null = null;
  let ttl = 1;
  for (let i = 0; i < rest.length; i += 2) {
    const option = rest[i].toLowerCase();
    if (option === "key") {
      key = num(sink, "broadcast", rest[i + 1], { int: true, min: 1, max: 4294967295 }, "key");
      if (key === null) return;
    } else if (option === "ttl") {
      const t = num(sink, "broadcast", rest[i + 1], { int: true, min: 1, max: 255 }, "ttl");
      if (t === null) return;
      ttl = t;
    } else {
      sink.error(`broadcast: unknown option '${rest[i]}' (key ID, ttl N)`);
      return;
    }
  }
  if (ttl !== 1 && !isMulticastAddress(address)) {
    sink.error(`broadcast: ttl applies to multicast addresses only ('${address}')`);
    return;
  }
  part(config).targets.push({ interval, address, port, key, ttl });
}

/** The options shared by broadcastclient and multicastclient; false after an error. */
function clientOptions(
  directive: string,
  options: string[],
  client: BroadcastClientConfig,
  sink: DirectiveSink,
): boolean {
  for (let i = 0; i < options.length; i++) {
    const option = options[i].toLowerCase();
    if (option === "unauthenticated") client.unauthenticated = true;
    else if (option === "novolley") client.novolley = true;
    else if (option === "maxsources") {
      const n = num(sink, directive, options[++i], { int: true, min: 1, max: 16 }, "maxsources");
      if (n === null) return false;
      client.maxSources = n;
    } else {
      sink.error(
        `${directive}: unknown option '${options[i]}' (unauthenticated, novolley, maxsources N)`,
      );
      return false;
    }
  }
  return true;
}

function client(config: Config): BroadcastClientConfig {
  const p = part(config);
  p.client ??= {
    broadcast: false,
    groups: [],
    unauthenticated: false,
    novolley: false,
    maxSources: DEFAULT_BROADCAST_MAX_SOURCES,
  };
  return p.client;
}

/** Handlers of the broadcast, multicast and manycast directives. */
export const BROADCAST_DIRECTIVES: DirectiveTable = {
  broadcast: broadcastTarget,
  broadcastclient: (config, args, sink) => {
    const c = client(config);
    if (clientOptions("broadcastclient", args, c, sink)) c.broadcast = true;
  },
  multicastclient: (config, args, sink) => {
    const groups: string[] = [];
    let i = 0;
    for (; i < args.length && parseIpAddress(args[i]) !== null; i++) {
      const g = group(sink, "multicastclient", args[i]);
      if (g === null) return;
      groups.push(g);
    }
    const c = client(config);
    if (!clientOptions("multicastclient", args.slice(i), c, sink)) return;
    if (groups.length === 0) groups.push(NTP_MULTICAST_V4);
    for (const g of groups) if (!c.groups.includes(g)) c.groups.push(g);
  },
  broadcastdelay: (config, args, sink) => {
    if (!arity(sink, "broadcastdelay", args, 1, 1)) return;
    const d = num(sink, "broadcastdelay", args[0], { int: false, min: 0, max: 1 }, "delay");
    if (d !== null) part(config).delay = d;
  },
  manycastserver: (config, args, sink) => {
    if (!arity(sink, "manycastserver", args, 1, 16)) return;
    const groups: string[] = [];
    for (const a of args) {
      const g = group(sink, "manycastserver", a);
      if (g === null) return;
      groups.push(g);
    }
    const p = part(config);
    for (const g of groups) if (!p.manycastServers.includes(g)) p.manycastServers.push(g);
  },
  manycastclient: (config, args, sink) => {
    const r = parseSourceArgs("pool", args);
    if (!r.ok) {
      sink.error(r.error.replace(/^pool:/, "manycastclient:"));
      return;
    }
    // NTS needs NTS-KE with a named server, which a manycast solicitation has not.
    const nts = r.params.nts ? "nts" : r.params.ntsPort !== undefined ? "ntsport" : null;
    if (nts !== null) {
      sink.error(`manycastclient: option '${nts}' is not supported by tempus`);
      return;
    }
    const g = group(sink, "manycastclient", r.name);
    if (g === null) return;
    for (const w of r.warnings) sink.warn(w.replace(/^pool/, "manycastclient"));
    part(config).manycastClients.push({ group: g, params: r.params });
  },
};

/** The directives of `config.broadcast` in chrony.conf syntax (none when absent). */
export function renderBroadcast(
  config: Config,
  renderOptions: (params: SourceParams) => string[],
): string[] {
  const b = config.broadcast;
  if (b === undefined) return [];
  const out: string[] = [];
  for (const t of b.targets) {
    const parts = ["broadcast", String(t.interval), t.address, String(t.port)];
    if (t.key !== null) parts.push("key", String(t.key));
    if (t.ttl !== 1) parts.push("ttl", String(t.ttl));
    out.push(parts.join(" "));
  }
  const c = b.client;
  if (c !== null) {
    const options: string[] = [];
    if (c.unauthenticated) options.push("unauthenticated");
    if (c.novolley) options.push("novolley");
    if (c.maxSources !== DEFAULT_BROADCAST_MAX_SOURCES) {
      options.push("maxsources", String(c.maxSources));
    }
    if (c.broadcast) out.push(["broadcastclient", ...options].join(" "));
    if (c.groups.length > 0) {
      out.push(["multicastclient", ...c.groups, ...(c.broadcast ? [] : options)].join(" "));
    }
  }
  out.push(`broadcastdelay ${b.delay}`);
  if (b.manycastServers.length > 0) out.push(`manycastserver ${b.manycastServers.join(" ")}`);
  for (const m of b.manycastClients) {
    out.push(["manycastclient", m.group, ...renderOptions(m.params)].join(" "));
  }
  return out;
}
