/**
 * The command server's sockets: UDP on the bindcmdaddress hosts (127.0.0.1 and ::1, port 323
 * by default) with chrony's open commands only, and a Unix datagram socket with full access,
 * protected by its directory's permissions: created 0770 (less the umask) and owned by the
 * daemon's user when missing, and refused (the socket disabled, as chronyd does) when it
 * grants anything to others or belongs to someone else; the socket itself is 0666 as
 * chronyd leaves it. Replies go to the sender's address, or the client's bound
 * socket path for Unix clients. Policy lives in server.ts; this module only moves bytes.
 *
 * @module
 */
import type { EngineControl } from "../core/control.ts";
import type { LogPort } from "../base/ports.ts";
import { handleCommand } from "./server.ts";
import {
  currentOwner,
  dirOf,
  ensurePrivateDir,
  type Owner,
  privateDirProblem,
} from "../io/private_dir.ts";
import { bestEffort } from "../base/errors.ts";

/** Mode bits the socket directory may have at most (chronyd: 0770, nothing for others). */
export const SOCKET_DIR_MODE = 0o770;

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
  /**
   * The user and group the daemon runs as (after any privilege drop): the socket directory
   * must belong to them. Default: the current process.
   */
  socketOwner?: Owner;
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

/**
 * Makes the socket's directory safe or refuses it (chronyd's CNF_CreateDirs): a missing
 * directory is created 0770 (less the umask) owned by the daemon's user; an existing one
 * must grant nothing to others and belong to that user and group, else the socket is
 * disabled. A stale socket file is removed. Returns false when the socket must not be bound.
 */
function prepareSocketPath(path: string, owner: Owner, log: LogPort): boolean {
  const dir = dirOf(path);
  try {
    ensurePrivateDir(dir, SOCKET_DIR_MODE, owner);
  } catch (error) {
    log.log("error", error instanceof Error ? error.message : String(error));
  }
  const problem = privateDirProblem(dir, SOCKET_DIR_MODE, owner);
  if (problem !== null) {
    log.log("error", problem);
    log.log("warning", `Disabled command socket ${path}`);
    return false;
  }
  try {
    const st = Deno.lstatSync(path);
    if (st.isSocket) Deno.removeSync(path);
  } catch {
    // nothing there
  }
  return true;
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
  const owner = options.socketOwner ?? currentOwner();
  if (options.socketPath !== null && prepareSocketPath(options.socketPath, owner, log)) {
    try {
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
        bestEffort(() => conn.close());
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
