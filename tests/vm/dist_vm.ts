/**
 * The throwaway busybox guest for dist/tempus: an initramfs with busybox, glibc (the
 * libraries the shipped deno binary links, as on any Debian machine), the host kernel's
 * virtio modules, dist/tempus as /usr/local/bin/tempus and tests/vm/dist_guest/init.sh; no
 * Deno. qemu's user network lets it reach a chronyd on the host as 10.0.2.2.
 *
 * @module
 */
import { findVmTools, sharedLibraries } from "./build.ts";
import { CpioWriter } from "./cpio.ts";
import { accelerator } from "./host_ntp.ts";
import { PROJECT_ROOT } from "./runner.ts";
import { type GuestReport, parseReport } from "./systemd_vm.ts";

const MODULES = [
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/drivers/virtio/virtio.ko",
  "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
  "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
  "kernel/drivers/virtio/virtio_pci.ko",
  "kernel/net/core/failover.ko",
  "kernel/drivers/net/net_failover.ko",
  "kernel/drivers/net/virtio_net.ko",
];

/** Options of one boot. */
export interface DistBootOptions {
  /** dist/tempus. */
  dist: string;
  /** The host NTP server's port on 127.0.0.1. */
  ntpPort: number;
  /** Seconds the clock starts ahead before the daemon. */
  plantSeconds: number;
  /** Seconds the daemon runs. */
  disciplineSeconds: number;
  /** Kill qemu after this many ms. */
  timeoutMs: number;
}

async function initramfs(options: DistBootOptions, kernel: string, busybox: string) {
  const version = kernel.replace(/^.*vmlinuz-/, "");
  const path = `${PROJECT_ROOT}/.vm-build/dist-initrd.${Deno.pid}.img`;
  await Deno.mkdir(`${PROJECT_ROOT}/.vm-build`, { recursive: true });
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  const cpio = new CpioWriter({ write: (c) => writer.write(c) });
  for (const d of ["bin", "sbin", "dev", "proc", "sys", "tmp", "root", "etc", "lib"]) {
    await cpio.dir(d, d === "tmp" ? 0o1777 : 0o755);
  }
  await cpio.dir("lib/modules");
  await cpio.dir("usr");
  await cpio.dir("usr/local");
  await cpio.dir("usr/local/bin");
  await cpio.charDevice("dev/console", 5, 1);
  await cpio.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  await cpio.file("etc/group", "root:x:0:\n");
  await cpio.file("bin/busybox", await Deno.readFile(busybox), 0o755);
  const deno = Deno.realPathSync(`${PROJECT_ROOT}/node_modules/deno/deno`);
  for (const lib of await sharedLibraries(deno)) {
    const real = Deno.realPathSync(lib);
    for (const p of new Set([lib, real])) {
      const parts = p.split("/").filter(Boolean);
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (!cpio.has(dir)) await cpio.dir(dir);
      }
      if (!cpio.has(p.slice(1))) await cpio.file(p.slice(1), await Deno.readFile(real), 0o755);
    }
  }
  for (const m of MODULES) {
    const name = m.replace(/^.*\//, "");
    await cpio.file(`lib/modules/${name}`, await Deno.readFile(`/lib/modules/${version}/${m}`));
  }
  await cpio.file("usr/local/bin/tempus", await Deno.readFile(options.dist), 0o755);
  await cpio.file(
    "params",
    `SERVER=10.0.2.2:${options.ntpPort}\nPLANT_SECONDS=${options.plantSeconds}\n` +
      `DISCIPLINE_SECONDS=${options.disciplineSeconds}\n`,
  );
  await cpio.file(
    "init",
    await Deno.readFile(`${PROJECT_ROOT}/tests/vm/dist_guest/init.sh`),
    0o755,
  );
  await cpio.finish();
  await writer.close();
  return path;
}

/** Boots the busybox guest with dist/tempus once and returns its report. */
export async function bootDistVm(options: DistBootOptions): Promise<GuestReport> {
  const tools = findVmTools(PROJECT_ROOT);
  if ("missing" in tools) throw new Error(tools.missing);
  const initrd = await initramfs(options, tools.kernel, tools.busybox);
  const accel = accelerator();
  const t0 = performance.now();
  const child = new Deno.Command(tools.qemu, {
    args: [
      "-nographic",
      "-no-reboot",
      "-m",
      "1024",
      "-accel",
      accel,
      "-kernel",
      tools.kernel,
      "-initrd",
      initrd,
      "-append",
      "console=ttyS0 rdinit=/init quiet panic=-1 net.ifnames=0",
      "-nic",
      "user,model=virtio-net-pci",
      "-rtc",
      "base=utc",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, options.timeoutMs);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ...parseReport(text), console: text, ms: performance.now() - t0, accel };
  } finally {
    clearTimeout(timer);
    await Deno.remove(initrd).catch(() => {});
  }
}
