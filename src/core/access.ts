/**
 * chrony's allow/deny semantics (addrfilt.c) for NTP service and the command port.
 *
 * Rules live in a tree with one level per 4 bits of the address, one tree per family. A
 * subnet whose prefix length is a multiple of 4 sets the state of one node; otherwise it
 * sets the 2^(4 - len % 4) sibling nodes it covers. A lookup walks the address down the
 * tree and takes the last explicit state it passes, so the most specific rule wins. `all`
 * rules also clear every more specific rule beneath them. With no rule, nobody is allowed.
 *
 * Subnet forms (chrony's): "" / "all" (every address of both families), "1.2.3.4" (/32),
 * "1.2.3" (/24), "1.2" (/16), "1" (/8), "1.2.3.0/24", "0/0", "2001:db8::/32", "::/0", a
 * bare IPv6 address (/128). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as IPv4.
 *
 * Pure: no I/O.
 *
 * @module
 */
import type { AccessRule } from "../config/model.ts";
import { isV4Mapped, parseIpSubnet, parseIpv4, parseIpv6 } from "../base/ip.ts";

/** Node state: inherit from the parent, allow, or deny. */
const INHERIT = 0;
const ALLOW = 1;
const DENY = 2;

/** One tree node: its own state and, when extended, 16 children (one per nibble value). */
interface Node {
  state: number;
  children: Node[] | null;
}

/** A parsed subnet: address bytes and prefix length; null bytes = both families. */
export interface Subnet {
  /** 4 or 16 address bytes; null means every address of both families. */
  bytes: Uint8Array | null;
  /** Prefix length in bits. */
  prefix: number;
}

/** Most address verdicts remembered by an `AccessTable` (the hot path parses no text). */
const ACCESS_CACHE_SIZE = 4096;

/** Why a subnet could not be used. */
export type AccessError = { ok: false; error: string };

function newNode(state: number): Node {
  return { state, children: null };
}

/**
 * Parses an address literal for a lookup: 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for
 * IPv6, null if it is not an address.
 */
export function parseAddress(text: string): Uint8Array | null {
  if (text.includes(":")) {
    const b = parseIpv6(text);
    if (b === null) return null;
    if (isV4Mapped(b)) return b.slice(12);
    return b;
  }
  return parseIpv4(text);
}

/**
 * Parses a subnet in chrony's forms (see the module doc). Returns null for text that is not
 * a subnet (e.g. a host name, which the caller must resolve first).
 */
export function parseSubnet(text: string): Subnet | null {
  const t = text.trim();
  if (t === "" || t === "all") return { bytes: null, prefix: 0 };
  const r = parseIpSubnet(t);
  return r.ok ? { bytes: r.value.bytes, prefix: r.value.prefix } : null;
}

/** The nibble (4 bits) of `bytes` at nibble index `i` (0 = most significant). */
function nibble(bytes: Uint8Array, i: number): number {
  const b = bytes[i >> 1];
  return (i & 1) === 0 ? b >> 4 : b & 0x0f;
}

function extend(node: Node): Node[] {
  if (node.children === null) {
    const c: Node[] = new Array(16);
    for (let i = 0; i < 16; i++) c[i] = newNode(INHERIT);
    node.children = c;
  }
  return node.children;
}

/** Sets `state` on the nodes covering `bytes/prefix` below `root` (chrony set_subnet). */
function setSubnet(root: Node, bytes: Uint8Array, prefix: number, state: number, all: boolean) {
  let node = root;
  let bitsLeft = prefix;
  let level = 0;
  while (bitsLeft >= 4) {
    node = extend(node)[nibble(bytes, level)];
    level++;
    bitsLeft -= 4;
  }
  if (bitsLeft === 0) {
    if (all) node.children = null;
    node.state = state;
    return;
  }
  const count = 1 << (4 - bitsLeft);
  const first = nibble(bytes, level) & ~(count - 1);
  const children = extend(node);
  for (let i = first; i < first + count; i++) {
    if (all) children[i].children = null;
    children[i].state = state;
  }
}

/** Walks `bytes` down from `root` and returns the last explicit state (chrony check_ip). */
function lookup(root: Node, bytes: Uint8Array): number {
  let node = root;
  let state = DENY;
  let level = 0;
  const levels = bytes.length * 2;
  while (true) {
    if (node.state !== INHERIT) state = node.state;
    if (node.children === null || level >= levels) return state;
    node = node.children[nibble(bytes, level)];
    level++;
  }
}

/**
 * An allow/deny table for one service (NTP or the command port), with chrony's semantics.
 * Rules may be added at run time (chronyc allow/deny/cmdallow/cmddeny).
 */
export class AccessTable {
  #v4: Node = newNode(DENY);
  #v6: Node = newNode(DENY);
  readonly #loopbackAlwaysAllowed: boolean;
  /** Verdicts by address text, cleared on every rule change and when full. */
  #cache = new Map<string, boolean>();

  /**
   * Creates a table that denies everything not allowed by `rules`.
   *
   * @param rules initial rules in order (e.g. `config.ntpAccess`); invalid ones are skipped
   *   (the config validator reports them).
   * @param options `loopbackAlwaysAllowed` for the command port (127.0.0.0/8 and ::1).
   */
  constructor(
    rules: readonly AccessRule[] = [],
    options: { loopbackAlwaysAllowed?: boolean } = {},
  ) {
    this.#loopbackAlwaysAllowed = options.loopbackAlwaysAllowed ?? false;
    for (const r of rules) this.addRule(r);
  }

  /** Builds a table from config rules; returns the errors of rules it could not apply. */
  static fromRules(
    rules: readonly AccessRule[],
    options: { loopbackAlwaysAllowed?: boolean } = {},
  ): { table: AccessTable; errors: string[] } {
    const table = new AccessTable([], options);
    const errors: string[] = [];
    for (const r of rules) {
      const res = table.addRule(r);
      if (!res.ok) errors.push(res.error);
    }
    return { table, errors };
  }

  /** Applies one rule (`allow`/`deny` [all] SUBNET). */
  addRule(rule: AccessRule): { ok: true } | AccessError {
    return this.#apply(rule.subnet, rule.allow ? ALLOW : DENY, rule.all);
  }

  /** chronyc `allow [all] [SUBNET]`. */
  allow(subnet: string = "", all = false): { ok: true } | AccessError {
    return this.#apply(subnet, ALLOW, all);
  }

  /** chronyc `deny [all] [SUBNET]`. */
  deny(subnet: string = "", all = false): { ok: true } | AccessError {
    return this.#apply(subnet, DENY, all);
  }

  /**
   * Removes the rule set exactly on SUBNET (its nodes inherit from the parent again); with
   * `all`, also every more specific rule beneath it. The root of a family reverts to deny.
   */
  removeRule(subnet: string, all = false): { ok: true } | AccessError {
    return this.#apply(subnet, INHERIT, all);
  }

  /** Removes every rule: nobody is allowed (except loopback where always allowed). */
  clear(): void {
    this.#v4 = newNode(DENY);
    this.#v6 = newNode(DENY);
    this.#cache.clear();
  }

  /** True if `address` (an IP literal) may use the service. Non-addresses are denied. */
  isAllowed(address: string): boolean {
    const cached = this.#cache.get(address);
    if (cached !== undefined) return cached;
    const bytes = parseAddress(address);
    const verdict = bytes !== null && this.isAllowedBytes(bytes);
    if (this.#cache.size >= ACCESS_CACHE_SIZE) this.#cache.clear();
    this.#cache.set(address, verdict);
    return verdict;
  }

  /** Like `isAllowed` for address bytes (4 = IPv4, 16 = IPv6). */
  isAllowedBytes(bytes: Uint8Array): boolean {
    if (this.#loopbackAlwaysAllowed && isLoopback(bytes)) return true;
    if (bytes.length === 4) return lookup(this.#v4, bytes) === ALLOW;
    if (bytes.length === 16) return lookup(this.#v6, bytes) === ALLOW;
    return false;
  }

  /**
   * The IPv4 rules as prefixes whose longest match gives `isAllowedBytes`'s verdict (every
   * node with a state of its own, the root first): what the XDP responder's trie holds.
   */
  ipv4Prefixes(): { bytes: Uint8Array; prefix: number; allow: boolean }[] {
    const out: { bytes: Uint8Array; prefix: number; allow: boolean }[] = [];
    const walk = (node: Node, level: number, bytes: Uint8Array) => {
      if (node.state !== INHERIT) {
        out.push({ bytes, prefix: level * 4, allow: node.state === ALLOW });
      }
      if (node.children === null || level >= 8) return;
      node.children.forEach((child, value) => {
        const next = bytes.slice();
        next[level >> 1] |= (level & 1) === 0 ? value << 4 : value;
        walk(child, level + 1, next);
      });
    };
    walk(this.#v4, 0, new Uint8Array(4));
    return out;
  }

  #apply(subnetText: string, state: number, all: boolean): { ok: true } | AccessError {
    this.#cache.clear();
    const subnet = parseSubnet(subnetText);
    if (subnet === null) return { ok: false, error: `invalid subnet "${subnetText}"` };
    if (subnet.bytes === null) {
      this.#setRoot(this.#v4, state, all);
      this.#setRoot(this.#v6, state, all);
      return { ok: true };
    }
    const root = subnet.bytes.length === 4 ? this.#v4 : this.#v6;
    if (subnet.prefix === 0) {
      this.#setRoot(root, state, all);
      return { ok: true };
    }
    setSubnet(root, subnet.bytes, subnet.prefix, state, all);
    return { ok: true };
  }

  #setRoot(root: Node, state: number, all: boolean): void {
    if (all) root.children = null;
    root.state = state === INHERIT ? DENY : state;
  }
}

function isLoopback(bytes: Uint8Array): boolean {
  if (bytes.length === 4) return bytes[0] === 127;
  for (let i = 0; i < 15; i++) if (bytes[i] !== 0) return false;
  return bytes[15] === 1;
}
