/**
 * The command server's sockets: UDP on the bindcmdaddress hosts (127.0.0.1 and ::1, port 323
 * by default) with chrony's open commands only, and a Unix datagram socket with full access,
 * protected by its directory's permissions (created 0750 when missing; the socket itself is
 * 0666 as chronyd leaves it). Replies go to the sender's address, or the client's bound
 * socket path for Unix clients. Policy lives in server.ts; this module only moves bytes.
 *
 * @module
 */
import type { EngineControl } from "../core/control.ts";
import type { LogPort } from "../core/ports.ts";
import { handleCommand } from "./server.ts";

/** Options of `startCommandServer`. */
export interface CommandServerOptions {
  /** IP literals to bind UDP sockets on (empty = no UDP). */
  udpHosts: string[];
  /** UDP port (0 = let the OS pick; see `udpPorts` on the handle). */
  port: number;
  /** Unix socket path, or null for none. */
  socketPath: string | null;
  /** cmdallow/cmddeny decision for a non-loopback UDP client. */
  allowUdp: (address: string) => boolean;
  /** Open commands (REQ codes) for UDP clients; default chrony's default set. */
  openCommands?: ReadonlySet<number>;
  /**
   * Called for every packet accepted for processing (after the cmdallow check), with the
   * client's IP or null for the Unix socket: lets the daemon count serverstats cmd hits.
   */
  onCommand?: (address: string | null) => void;
}

/** A running command server. */
export interface CommandServer {
  /** Closes every socket and removes the Unix socket file. */
  close(): Promise<void>;
  /** The UDP ports actually bound, per host (useful with port 0). */
  udpPorts: Map<string, number>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1"]);
const BUFFER_SIZE = 2048;

async function serve(
  conn: Deno.DatagramConn,
  onPacket: (data: Uint8Array, addr: Deno.Addr) => Uint8Array | null,
  log: LogPort,
): Promise<void> {
  const buffer = new Uint8Array(BUFFER_SIZE);
  while (true) {
    let data: Uint8Array;
    let addr: Deno.Addr;
    try {
      [data, addr] = await conn.receive(buffer);
    } catch (error) {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
        return;
      }
      log.log("debug", "command socket receive failed", { error: String(error) });
      await new Promise((r) => setTimeout(r, 10)); // never spin on a failing socket
      continue;
    }
    let reply: Uint8Array | null = null;
    try {
      reply = onPacket(data.slice(), addr);
    } catch (error) {
      log.log("error", "command handler failed", { error: String(error) });
    }
    if (reply === null) continue;
    try {
      await conn.send(reply, addr);
    } catch (error) {
      log.log("debug", "command reply not sent", { error: String(error) });
    }
  }
}

async function prepareSocketPath(path: string, log: LogPort): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : "/";
  try {
    await Deno.stat(dir);
  } catch {
    await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
    await Deno.chmod(dir, 0o750); // whatever the umask
  }
  try {
    const st = await Deno.lstat(path);
    if (st.isSocket) await Deno.remove(path);
  } catch {
    // nothing there
  }
  try {
    const st = await Deno.stat(dir);
    if (st.mode !== null && (st.mode & 0o007) !== 0) {
      log.log("warning", `command socket directory ${dir} is accessible to others`);
    }
  } catch {
    // checked above
  }
}

/** Opens the command sockets and serves requests until `close()`. */
export async function startCommandServer(
  options: CommandServerOptions,
  control: EngineControl,
  log: LogPort,
): Promise<CommandServer> {
  const conns: Deno.DatagramConn[] = [];
  const loops: Promise<void>[] = [];
  const udpPorts = new Map<string, number>();
  const udpAccess = { full: false, openCommands: options.openCommands };
  for (const host of options.udpHosts) {
    let conn: Deno.DatagramConn;
    try {
      conn = Deno.listenDatagram({ transport: "udp", hostname: host, port: options.port });
    } catch (error) {
      log.log("error", `Could not open command socket on ${host}:${options.port}`, {
        error: String(error),
      });
      continue;
    }
    const local = conn.addr as Deno.NetAddr;
    udpPorts.set(host, local.port);
    conns.push(conn);
    loops.push(serve(conn, (data, addr) => {
      const remote = (addr as Deno.NetAddr).hostname;
      if (!LOOPBACK.has(remote) && !options.allowUdp(remote)) return null;
      options.onCommand?.(remote);
      return handleCommand(data, udpAccess, control);
    }, log));
  }
  let socketPath: string | null = null;
  if (options.socketPath !== null) {
    try {
      await prepareSocketPath(options.socketPath, log);
      const conn = Deno.listenDatagram({ transport: "unixpacket", path: options.socketPath });
      await Deno.chmod(options.socketPath, 0o666);
      socketPath = options.socketPath;
      conns.push(conn);
      loops.push(serve(conn, (data, addr) => {
        const path = (addr as Deno.UnixAddr).path;
        if (!path) return null; // an unbound client cannot get a reply
        options.onCommand?.(null);
        return handleCommand(data, { full: true }, control);
      }, log));
    } catch (error) {
      log.log("error", `Could not open command socket on ${options.socketPath}`, {
        error: String(error),
      });
    }
  }
  return {
    udpPorts,
    async close() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await Promise.allSettled(loops);
      if (socketPath !== null) {
        try {
          await Deno.remove(socketPath);
        } catch {
          // gone already
        }
      }
    },
  };
}
