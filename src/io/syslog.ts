/**
 * A syslog sink: one datagram per line to /dev/log (facility daemon), the way chronyd logs
 * once it has gone to the background without -l. Uses an AF_UNIX datagram socket through
 * FFI (Deno's datagram API cannot send from an unbound socket).
 *
 * @module
 */
import { closeFd, libcSymbols } from "../../ffi/libc.ts";
import type { LogLevel } from "../base/ports.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const LOG_DAEMON = 3 << 3;
const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 3, warning: 4, info: 6, debug: 7 };

/** Builds a struct sockaddr_un for `path`; throws when the path is too long. */
export function sockaddrUn(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > 107) throw new Error(`socket path too long: ${path}`);
  const addr = new Uint8Array(2 + 108);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  return addr;
}

/** Formats one syslog datagram: "<PRI>IDENT[PID]: message". */
export function syslogDatagram(level: LogLevel, ident: string, pid: number, text: string): string {
  return `<${LOG_DAEMON | SEVERITY[level]}>${ident}[${pid}]: ${text}`;
}

/** Sends lines to the local syslog daemon. Lines are dropped when nobody listens. */
export class SyslogSink {
  #fd: number;
  #addr: Uint8Array;
  #ident: string;
  #encoder = new TextEncoder();

  /** Opens the socket; throws when the socket cannot be created. */
  constructor(ident: string, path = "/dev/log") {
    this.#ident = ident;
    this.#addr = sockaddrUn(path);
    this.#fd = libcSymbols().socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (this.#fd < 0) throw new Error("cannot create a syslog socket");
  }

  /** Sends one message (each line of a multi-line message as its own entry). */
  write(level: LogLevel, text: string): void {
    if (this.#fd < 0) return;
    for (const line of text.split("\n")) {
      const bytes = this.#encoder.encode(syslogDatagram(level, this.#ident, Deno.pid, line));
      libcSymbols().sendto(
        this.#fd,
        bytes,
        BigInt(bytes.length),
        0,
        this.#addr,
        this.#addr.length,
      );
    }
  }

  /** Closes the socket. */
  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }
}
