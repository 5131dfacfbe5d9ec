/**
 * Directives of the NTP mode 6 (ntpq) responder, tempus-only: `mode6allow [all] [SUBNET]`
 * and `mode6deny [all] [SUBNET]`, chrony's allow/deny syntax and semantics (the most specific
 * rule wins, `all` clears more specific rules beneath it) for who may read the daemon's
 * variables with ntpq. Loopback (127.0.0.0/8, ::1) is allowed before these rules, so by
 * default only local ntpq is answered, as with ntpd's usual `restrict default ... noquery`
 * plus `restrict 127.0.0.1`; `mode6deny all` turns mode 6 off, `mode6allow 192.0.2.0/24`
 * opens it to a subnet. Mode 6 is served on the NTP socket, which these rules also open
 * (with no `allow` rule it then serves time to nobody). Nothing is ever writable (ntpd's
 * `nomodify` always holds).
 *
 * @module
 */
import type { DirectiveHandler, DirectiveTable } from "./directive_kit.ts";
import { parseAccessArgs } from "./directives_network.ts";
import type { AccessRule } from "./model.ts";

/** The rules every mode 6 access table starts with: loopback is allowed. */
export const MODE6_LOOPBACK_RULES: readonly AccessRule[] = Object.freeze([
  { allow: true, subnet: "127.0.0.0/8", all: false },
  { allow: true, subnet: "::1/128", all: false },
]);

function mode6Access(allow: boolean, name: string): DirectiveHandler {
  return (config, args, sink) => {
    const rule = parseAccessArgs(name, allow, args, sink);
    if (rule !== null) (config.mode6Access ??= []).push(rule);
  };
}

/** Handlers of the mode 6 directives. */
export const MODE6_DIRECTIVES: DirectiveTable = {
  mode6allow: mode6Access(true, "mode6allow"),
  mode6deny: mode6Access(false, "mode6deny"),
};
