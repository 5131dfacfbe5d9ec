/**
 * The client side of chrony's command protocol, as chronyc does it: a list of daemon
 * addresses (Unix socket paths and IP addresses) tried in order; over the Unix socket the
 * client binds its own datagram socket in a directory it has just created exclusively (next
 * to the server socket like chronyc, else in a private temp dir; 0711 with a hidden random
 * level, socket 0666; set up through descriptors, never following a link) so the daemon can
 * reply to it; each request is sent up to `retries + 1` times with a fresh random sequence and
 * timeouts doubling from `timeoutMs` (1 s, 2 s, 4 s: chronyc's schedule). A reply is
 * accepted only if its header matches the request and it is as long as its type requires.
 *
 * @module
 */
import {
  DEFAULT_CANDM_PORT,
  PROTO_VERSION,
  PROTO_VERSION_MISMATCH_COMPAT_CLIENT,
  STT,
} from "./constants.ts";
import { decodeReply, encodeRequest, type Reply } from "./codec.ts";
import type { RequestCode, RequestData } from "./requests.ts";
import {
  closeDirFd,
  fchmodAt,
  fchmodFd,
  fstatAt,
  fstatFd,
  geteuid,
  isType,
  mkdirAt,
  openDirAt,
  openDirNoFollow,
  S_IFDIR,
  S_IFSOCK,
  unlinkAt,
} from "../../ffi/dir_fd.ts";
import { dirOf } from "../io/private_dir.ts";
import { ConnectedUdpSocket } from "../../ffi/connected_udp.ts";
import { parseIpv4, parseIpv6 } from "../base/ip.ts";
import { bestEffort } from "../base/errors.ts";

/** A daemon address: a Unix socket path or an IP address and port. */
export type DaemonAddress =
  | { kind: "unix"; path: string }
  | { kind: "udp"; hostname: string; port: number };

/** Client options. */
export interface ClientOptions {
  /** Addresses tried in order. */
  addresses: DaemonAddress[];
  /** First timeout in ms (chronyc default 1000). */
  timeoutMs?: number;
  /** Retries after the first attempt (chronyc default 2). */
  retries?: number;
}

/** One open socket to one daemon address. */
interface Channel {
  send(packet: Uint8Array): Promise<void>;
  receive(timeoutMs: number): Promise<Uint8Array | null | "error">;
  close(): Promise<void>;
}

function randomName(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** An opened datagram socket with its clean-up. */
interface Opened {
  conn: Deno.DatagramConn;
  cleanup: () => Promise<void>;
}

/**
 * A socket with a background reader. Deno refuses to send on a Unix datagram socket while a
 * receive is pending, so for those each send after the first reopens the client socket
 * (a fresh private path; a late reply to an earlier attempt is then simply lost).
 */
class DatagramChannel implements Channel {
  private queue: Array<Uint8Array | "error"> = [];
  private waiter: ((v: Uint8Array | "error" | null) => void) | null = null;
  private loop: Promise<void> | null = null;
  private current: Opened | null = null;
  private closed = false;

  constructor(
    private open: () => Promise<Opened>,
    private target: Deno.Addr,
    private reopenOnSend: boolean,
  ) {}

  private async run(opened: Opened): Promise<void> {
    const buffer = new Uint8Array(2048);
    while (this.current === opened) {
      let item: Uint8Array | "error";
      try {
        const [data] = await opened.conn.receive(buffer);
        item = data.slice();
      } catch {
        if (this.current !== opened) return;
        item = "error";
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(item);
      } else {
        this.queue.push(item);
      }
      if (item === "error") await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async shut(): Promise<void> {
    const opened = this.current;
    this.current = null;
    if (opened === null) return;
    bestEffort(() => opened.conn.close());
    await this.loop?.catch(() => {});
    this.loop = null;
    await opened.cleanup();
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.closed) throw new Deno.errors.BadResource("closed");
    if (this.current !== null && this.reopenOnSend) await this.shut();
    if (this.current === null) {
      this.current = await this.open();
      this.queue = [];
      await this.current.conn.send(packet, this.target);
      this.loop = this.run(this.current);
      return;
    }
    await this.current.conn.send(packet, this.target);
  }

  receive(timeoutMs: number): Promise<Uint8Array | null | "error"> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, Math.max(0, timeoutMs));
      this.waiter = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.shut();
  }
}

/** Closes what a failed or finished client socket setup holds, never through a path. */
function releaseClientDirs(
  fd1: number,
  fd2: number,
  rand: string | null,
  boundSock: boolean,
): void {
  if (fd2 >= 0) {
    if (boundSock) {
      bestEffort(() => unlinkAt(fd2, "sock"));
    }
    closeDirFd(fd2);
  }
  if (fd1 >= 0) {
    if (rand !== null) {
      bestEffort(() => unlinkAt(fd1, rand, true)); // not created, or not empty
    }
    closeDirFd(fd1);
  }
}

/**
 * Binds the client's socket as `dir1/RANDOM/sock`, where `dir1` is a directory this client
 * has just created itself, exclusively (`fresh`: made by makeTempDir; else made here as
 * `dir0/tempus.PID.RANDOM`). Nothing is followed through a link: dir1 is opened O_NOFOLLOW
 * and checked (a directory owned by us, writable by no one else), the hidden random level is
 * created, chmod-ed and checked through descriptors, and the bound socket must turn up in
 * that very directory. Whoever can write `dir0` (a world-writable directory, or a daemon's
 * user owning its run directory) can neither predict nor redirect any of it.
 */
function bindClientIn(dir0: string, fresh: boolean): Opened {
  const dir1 = fresh ? dir0 : `${dir0}/tempus.${Deno.pid}.${randomName(8)}`;
  if (!fresh) Deno.mkdirSync(dir1, { mode: 0o700 }); // exclusive: fails on anything there
  let fd1 = -1;
  let fd2 = -1;
  let rand: string | null = null;
  let bound = false;
  try {
    fd1 = openDirNoFollow(dir1);
    const st = fstatFd(fd1);
    if (!isType(st.mode, S_IFDIR) || st.uid !== geteuid() || (st.mode & 0o022) !== 0) {
      throw new Error(`unexpected owner or mode of ${dir1}`);
    }
    fchmodFd(fd1, 0o711); // the daemon (maybe another user) must reach the socket
    rand = randomName(16);
    mkdirAt(fd1, rand, 0o700);
    fd2 = openDirAt(fd1, rand);
    fchmodFd(fd2, 0o711);
    const sockPath = `${dir1}/${rand}/sock`;
    const conn = Deno.listenDatagram({ transport: "unixpacket", path: sockPath });
    bound = true;
    try {
      if (!isType(fstatAt(fd2, "sock").mode, S_IFSOCK)) throw new Error("socket misplaced");
      fchmodAt(fd2, "sock", 0o666);
    } catch (error) {
      conn.close();
      throw error;
    }
    const held = { fd1, fd2, rand };
    fd1 = -1; // handed over to the clean-up
    fd2 = -1;
    const cleanup = () => {
      releaseClientDirs(held.fd1, held.fd2, held.rand, true);
      return Deno.remove(dir1).catch(() => {}); // a link swapped in is unlinked, not followed
    };
    return { conn, cleanup };
  } catch (error) {
    releaseClientDirs(fd1, fd2, rand, bound);
    bestEffort(() => Deno.removeSync(dir1));
    throw error;
  }
}

async function bindUnixClient(path: string): Promise<Opened> {
  try {
    return bindClientIn(dirOf(path), false);
  } catch {
    // Not allowed to create next to the server socket (an unprivileged user): use a
    // private temporary directory instead.
  }
  const temp = await Deno.makeTempDir({ prefix: "tempus-cmd-" });
  return bindClientIn(temp, true);
}

async function openUnix(path: string): Promise<Channel | null> {
  try {
    const st = await Deno.stat(path);
    if (!st.isSocket) return null;
  } catch {
    return null;
  }
  return new DatagramChannel(
    () => bindUnixClient(path),
    { transport: "unixpacket", path },
    true,
  );
}

/**
 * A connected UDP channel (chronyc's): an ICMP port unreachable from a host where no daemon
 * listens ends the attempt at once instead of after the whole timeout.
 */
class ConnectedUdpChannel implements Channel {
  constructor(private socket: ConnectedUdpSocket) {}

  send(packet: Uint8Array): Promise<void> {
    this.socket.send(packet);
    return Promise.resolve();
  }

  async receive(timeoutMs: number): Promise<Uint8Array | null | "error"> {
    const got = await this.socket.receive(timeoutMs);
    if (got.kind === "data") return got.data;
    return got.kind === "timeout" ? null : "error";
  }

  close(): Promise<void> {
    this.socket.close();
    return Promise.resolve();
  }
}

function openUdp(hostname: string, port: number): Channel | null {
  const ip = parseIpv4(hostname) ?? parseIpv6(hostname);
  if (ip !== null) {
    try {
      return new ConnectedUdpChannel(ConnectedUdpSocket.connect(ip, port));
    } catch {
      // no FFI, or no such route: the plain Deno socket below
    }
  }
  try {
    const v6 = hostname.includes(":");
    const conn = Deno.listenDatagram({
      transport: "udp",
      hostname: v6 ? "::" : "0.0.0.0",
      port: 0,
    });
    return new DatagramChannel(
      () => Promise.resolve({ conn, cleanup: () => Promise.resolve() }),
      { transport: "udp", hostname, port },
      false,
    );
  } catch {
    return null;
  }
}

/** A chronyc-like client session. */
export class CmdmonClient {
  private index = 0;
  private channel: Channel | null = null;
  private readonly timeoutMs: number;
  private readonly retries: number;

  /** Creates a client; sockets open lazily on the first request. */
  constructor(private readonly options: ClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.retries = options.retries ?? 2;
  }

  /** Opens a channel to the current address or the next one that can be opened. */
  private async openCurrent(): Promise<boolean> {
    while (this.index < this.options.addresses.length) {
      const addr = this.options.addresses[this.index];
      this.channel = addr.kind === "unix"
        ? await openUnix(addr.path)
        : openUdp(addr.hostname, addr.port);
      if (this.channel !== null) return true;
      this.index++;
    }
    return false;
  }

  /** Sends a request with chronyc's retries and waits for its matching reply. */
  private async submit<C extends RequestCode>(
    command: C,
    data: Partial<RequestData<C>>,
  ): Promise<Reply | null> {
    const channel = this.channel;
    if (channel === null) return null;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      const sequence = crypto.getRandomValues(new Uint32Array(1))[0];
      const packet = encodeRequest({ command, sequence, attempt, data });
      try {
        await channel.send(packet);
      } catch {
        continue;
      }
      const deadline = Date.now() + this.timeoutMs * 2 ** attempt;
      while (true) {
        const got = await channel.receive(deadline - Date.now());
        if (got === null || got === "error") break;
        const decoded = decodeReply(got);
        if (!decoded.ok) {
          // A short or unknown reply: treat like chronyc (retry on short, skip others).
          if (decoded.error.kind === "too-short") break;
          continue;
        }
        const h = decoded.reply.header;
        const versionOk = h.version === PROTO_VERSION ||
          (h.version >= PROTO_VERSION_MISMATCH_COMPAT_CLIENT && h.status === STT.BADPKTVERSION);
        if (
          !versionOk || h.res1 !== 0 || h.res2 !== 0 || h.command !== command ||
          h.sequence !== sequence
        ) {
          continue;
        }
        return decoded.reply;
      }
    }
    return null;
  }

  /**
   * Sends one request (fields left out of `data` are sent as zero) and returns the reply,
   * whatever its code, or null when no daemon address answered (chronyc then prints "506
   * Cannot talk to daemon").
   */
  async request<C extends RequestCode>(
    command: C,
    data: Partial<RequestData<C>> = {},
  ): Promise<Reply | null> {
    while (true) {
      if (this.channel === null && !(await this.openCurrent())) {
        this.index = 0;
        return null;
      }
      const reply = await this.submit(command, data);
      if (reply !== null) return reply;
      await this.channel?.close();
      this.channel = null;
      this.index++;
    }
  }

  /** Closes the socket (and removes the client's Unix socket and its directories). */
  async close(): Promise<void> {
    await this.channel?.close();
    this.channel = null;
  }
}

/**
 * Parses chronyc's `-h` value: comma-separated host names, IP literals or socket paths
 * (starting with "/"). Names are returned as given; the caller resolves them.
 */
export function parseHostList(value: string, port = DEFAULT_CANDM_PORT): DaemonAddress[] {
  const out: DaemonAddress[] = [];
  for (const part of value.split(",")) {
    const host = part.trim();
    if (host === "") continue;
    if (host.startsWith("/")) out.push({ kind: "unix", path: host });
    else out.push({ kind: "udp", hostname: host.replace(/^\[(.*)\]$/, "$1"), port });
  }
  return out;
}
