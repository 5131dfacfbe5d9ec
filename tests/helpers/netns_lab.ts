/**
 * Test helper: a small network of Linux network namespaces made and removed by the test (as
 * root): one namespace per host, each with `lo` up and an `eth0` veth link into a hub
 * namespace holding a bridge, addresses 10.77.X.N/24. Peers whose NTP port is fixed (ntpd
 * always uses 123) each get a namespace of their own, so nothing touches the host's ports.
 * Namespace names carry the prefix and the test's pid, so parallel runs never collide.
 *
 * @module
 */
import { type Background, runCommand, startBackground } from "./peers.ts";

/** One host of the lab. */
export interface LabHost {
  /** Namespace name. */
  ns: string;
  /** Its address on the lab network. */
  address: string;
  /** Runs a command inside the namespace and waits for it. */
  run(cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  /** Starts a background process inside the namespace. */
  start(cmd: string, args: string[]): Background;
}

/** A lab of hosts joined by a bridge. */
export interface Lab {
  /** The hosts, in the order of `names`. */
  hosts: LabHost[];
  /** Cuts a host off the network (its link down) or joins it again. */
  setLink(host: LabHost, up: boolean): Promise<void>;
  /** Stops every process started through the lab and removes every namespace. */
  close(): Promise<void>;
}

/** True when this process may create network namespaces (root with `ip`). */
export async function labPossible(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    const out = await runCommand("ip", ["netns", "list"]);
    return out.code === 0;
  } catch {
    return false;
  }
}

async function ip(args: string[]): Promise<void> {
  const out = await runCommand("ip", args);
  if (out.code !== 0) throw new Error(`ip ${args.join(" ")}: ${out.stderr}`);
}

/**
 * Makes hosts `names` (prefix-pid-name namespaces) on subnet 10.77.`subnet`.0/24, host i at
 * .(i+1).
 */
export async function makeLab(prefix: string, names: string[], subnet: number): Promise<Lab> {
  const tag = `${prefix}-${Deno.pid}`;
  const hub = `${tag}-hub`;
  const made: string[] = [];
  const procs: Background[] = [];
  const close = async () => {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    for (const ns of made.reverse()) await runCommand("ip", ["netns", "del", ns]).catch(() => {});
  };
  try {
    await ip(["netns", "add", hub]);
    made.push(hub);
    await ip(["-n", hub, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", hub, "link", "set", "br0", "up"]);
    const hosts: LabHost[] = [];
    for (let i = 0; i < names.length; i++) {
      const ns = `${tag}-${names[i]}`;
      await ip(["netns", "add", ns]);
      made.push(ns);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
      await ip([
        "-n",
        ns,
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        `h${i}`,
        "netns",
        hub,
      ]);
      await ip(["-n", hub, "link", "set", `h${i}`, "master", "br0", "up"]);
      const address = `10.77.${subnet}.${i + 1}`;
      await ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
      await ip(["-n", ns, "link", "set", "eth0", "up"]);
      hosts.push({
        ns,
        address,
        async run(cmd, args, timeoutMs = 20_000) {
          const out = await runCommand("ip", ["netns", "exec", ns, cmd, ...args], timeoutMs);
          return out.stdout + out.stderr;
        },
        start(cmd, args) {
          const p = startBackground("ip", ["netns", "exec", ns, cmd, ...args]);
          procs.push(p);
          return p;
        },
      });
    }
    return {
      hosts,
      async setLink(host, up) {
        await ip(["-n", host.ns, "link", "set", "eth0", up ? "up" : "down"]);
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
