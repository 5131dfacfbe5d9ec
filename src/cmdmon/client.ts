/**
 * The client side of chrony's command protocol, as chronyc does it: a list of daemon
 * addresses (Unix socket paths and IP addresses) tried in order; over the Unix socket the
 * client binds its own datagram socket in a private directory (0711, random name, socket
 * 0666, next to the server socket like chronyc, else in a temp dir) so the daemon can reply
 * to it; each request is sent up to `retries + 1` times with a fresh random sequence and
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
    try {
      opened.conn.close();
    } catch {
      // already closed
    }
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

async function bindUnixClient(path: string): Promise<Opened> {
  const slash = path.lastIndexOf("/");
  const serverDir = slash > 0 ? path.slice(0, slash) : "/";
  let lastError: unknown = null;
  for (const base of [`${serverDir}/tempus.${Deno.pid}`, null]) {
    try {
      let dir1: string;
      let made = false;
      if (base === null) {
        dir1 = await Deno.makeTempDir({ prefix: "tempus-cmd-" });
        made = true;
      } else {
        dir1 = base;
        try {
          await Deno.mkdir(dir1, { mode: 0o711 });
          made = true;
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
      }
      await Deno.chmod(dir1, 0o711);
      const dir2 = `${dir1}/${randomName(16)}`;
      await Deno.mkdir(dir2, { mode: 0o711 });
      const sockPath = `${dir2}/sock`;
      const conn = Deno.listenDatagram({ transport: "unixpacket", path: sockPath });
      await Deno.chmod(sockPath, 0o666);
      const cleanup = async () => {
        await Deno.remove(sockPath).catch(() => {});
        await Deno.remove(dir2).catch(() => {});
        if (made) await Deno.remove(dir1).catch(() => {});
      };
      return { conn, cleanup };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
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

function openUdp(hostname: string, port: number): Channel | null {
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
