/**
 * A chronyd -x on the host's loopback serving the host clock (never touching it), for
 * guests that reach it through qemu's user network (guest 10.0.2.2:PORT is host
 * 127.0.0.1:PORT).
 *
 * @module
 */

/** A running host-side NTP server. */
export interface HostNtpServer {
  /** UDP port on 127.0.0.1. */
  port: number;
  /** Stops chronyd and removes its files. */
  stop(): Promise<void>;
}

/** The chronyd binary, or null when chrony is not installed. */
export function chronydPath(): string | null {
  for (const p of ["/usr/sbin/chronyd", "/usr/bin/chronyd"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  return null;
}

function freePort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

/** Starts `chronyd -x` as a stratum-1 server on 127.0.0.1:PORT. */
export async function startHostNtp(): Promise<HostNtpServer> {
  const chronyd = chronydPath();
  if (chronyd === null) throw new Error("chronyd not installed");
  const dir = await Deno.makeTempDir({ prefix: "tempus-vm-ntp-" });
  await Deno.chmod(dir, 0o777);
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/chrony.conf`,
    [
      "local stratum 1",
      "allow 127.0.0.0/8",
      "bindaddress 127.0.0.1",
      `port ${port}`,
      "cmdport 0",
      `pidfile ${dir}/chronyd.pid`,
      `driftfile ${dir}/drift`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(chronyd, {
    args: ["-x", "-d", "-f", `${dir}/chrony.conf`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * qemu's accelerator: TCG, unless TEMPUS_VM_ACCEL=kvm (nested KVM on this project's CI
 * machines fails with "KVM internal error", so KVM is opt-in).
 */
export function accelerator(): "kvm" | "tcg" {
  return Deno.env.get("TEMPUS_VM_ACCEL") === "kvm" ? "kvm" : "tcg";
}
