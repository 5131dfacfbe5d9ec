/**
 * A Debian guest with systemd as PID 1, for testing the installed unit: a rootfs built with
 * debootstrap from Debian's archive (bookworm, minbase plus systemd, udev, iproute2,
 * procps), turned into an ext4 image with `mkfs.ext4 -d`, and a tiny busybox initramfs that
 * loads the virtio modules of the host's cloud kernel, mounts the image and hands over to
 * systemd. Both are cached under /var/cache/tempus-vm (TEMPUS_VM_CACHE), keyed by what goes
 * into them; qemu boots the image with -snapshot so the cache is never written.
 *
 * In the image, tempus-harness.service unpacks the tar archive on the second disk
 * (/dev/vdb) to /run/harness and runs /run/harness/run.sh, which prints results on the
 * serial console.
 *
 * @module
 */
import { CpioWriter } from "./cpio.ts";

/** Where the debootstrap tree and images are cached. */
export const CACHE_DIR: string = Deno.env.get("TEMPUS_VM_CACHE") ?? "/var/cache/tempus-vm";
/** Debian suite and packages of the rootfs. */
export const SUITE = "bookworm";
/** Packages on top of minbase. */
export const PACKAGES = ["systemd", "systemd-sysv", "udev", "kmod", "iproute2", "procps"];
/** The Debian mirror debootstrap fetches from. */
export const MIRROR: string = Deno.env.get("TEMPUS_VM_MIRROR") ?? "http://deb.debian.org/debian";

/** Modules (from the host's /lib/modules/VERSION) loaded by the initramfs, in order. */
const MODULES = [
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/drivers/virtio/virtio.ko",
  "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
  "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
  "kernel/drivers/virtio/virtio_pci.ko",
  "kernel/drivers/block/virtio_blk.ko",
  "kernel/net/core/failover.ko",
  "kernel/drivers/net/net_failover.ko",
  "kernel/drivers/net/virtio_net.ko",
];

/** The debootstrap tree's directory name (changes with the suite and package list). */
export function debootstrapDir(): string {
  return `${CACHE_DIR}/debootstrap-${SUITE}-${PACKAGES.join("+")}`;
}

const HARNESS_UNIT = `[Unit]
Description=tempus VM test harness (runs /run/harness/run.sh from /dev/vdb)
After=systemd-udevd.service systemd-journald.service
ConditionPathExists=/dev/vdb

[Service]
Type=exec
ExecStart=/bin/sh -c 'mkdir -p /run/harness && tar -xf /dev/vdb -C /run/harness && exec /bin/sh /run/harness/run.sh >/dev/ttyS0 2>&1'
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

/** Files written into the image (path, content). Part of the image's cache key. */
export const IMAGE_FILES: [string, string][] = [
  ["etc/hostname", "tempus-vm\n"],
  ["etc/hosts", "127.0.0.1 localhost\n::1 localhost\n127.0.1.1 tempus-vm\n"],
  ["etc/fstab", "/dev/vda / ext4 rw,noatime 0 1\n"],
  ["etc/resolv.conf", "nameserver 10.0.2.3\n"],
  ["etc/systemd/system/tempus-harness.service", HARNESS_UNIT],
  [
    "etc/systemd/network/10-qemu.network",
    "[Match]\nName=en* eth*\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n",
  ],
];

/** Symlinks written into the image (enabling units). */
const IMAGE_LINKS: [string, string][] = [
  [
    "etc/systemd/system/multi-user.target.wants/tempus-harness.service",
    "/etc/systemd/system/tempus-harness.service",
  ],
  [
    "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
    "/lib/systemd/system/systemd-networkd.service",
  ],
  [
    "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
    "/lib/systemd/system/systemd-networkd.socket",
  ],
  // Nothing in the test needs these; they only slow the boot down.
  ["etc/systemd/system/apt-daily.timer", "/dev/null"],
  ["etc/systemd/system/apt-daily-upgrade.timer", "/dev/null"],
  ["etc/systemd/system/e2scrub_reap.service", "/dev/null"],
  ["etc/systemd/system/systemd-timesyncd.service", "/dev/null"],
  // The harness owns the serial console.
  ["etc/systemd/system/serial-getty@ttyS0.service", "/dev/null"],
];

async function sha(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
}

/** The image's path for the current recipe. */
export async function imagePath(): Promise<string> {
  const key = await sha(JSON.stringify({ v: 1, d: debootstrapDir(), IMAGE_FILES, IMAGE_LINKS }));
  return `${CACHE_DIR}/rootfs-${key}.ext4`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], log?: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (log) await Deno.writeTextFile(log, text);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text.slice(-2000)}`);
}

/** Runs debootstrap (minutes; needs root and Debian's archive) unless the tree exists. */
export async function ensureDebootstrap(): Promise<string> {
  const dir = debootstrapDir();
  if (exists(`${dir}/sbin/init`)) return dir;
  const tmp = `${dir}.tmp`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(CACHE_DIR, { recursive: true });
  await run(
    "debootstrap",
    ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, tmp, MIRROR],
    `${CACHE_DIR}/debootstrap.log`,
  );
  await Deno.rename(tmp, dir);
  return dir;
}

/** Builds the ext4 image from the debootstrap tree (seconds) unless it exists. */
export async function ensureImage(): Promise<string> {
  const image = await imagePath();
  if (exists(image)) return image;
  const tree = debootstrapDir();
  if (!exists(`${tree}/sbin/init`)) throw new Error(`no debootstrap tree at ${tree}`);
  for (const [path, text] of IMAGE_FILES) {
    await Deno.mkdir(`${tree}/${path.replace(/\/[^/]*$/, "")}`, { recursive: true });
    await Deno.remove(`${tree}/${path}`).catch(() => {});
    await Deno.writeTextFile(`${tree}/${path}`, text);
  }
  for (const [path, target] of IMAGE_LINKS) {
    await Deno.mkdir(`${tree}/${path.replace(/\/[^/]*$/, "")}`, { recursive: true });
    await Deno.remove(`${tree}/${path}`).catch(() => {});
    await Deno.symlink(target, `${tree}/${path}`);
  }
  await Deno.writeTextFile(`${tree}/etc/machine-id`, "");
  const tmp = `${image}.tmp`;
  await run("mkfs.ext4", ["-q", "-F", "-L", "tempusroot", "-d", tree, tmp, "1200M"]);
  for (const e of Deno.readDirSync(CACHE_DIR)) {
    if (/^rootfs-.*\.ext4$/.test(e.name)) await Deno.remove(`${CACHE_DIR}/${e.name}`);
  }
  await Deno.rename(tmp, image);
  return image;
}

/** The initramfs that loads virtio and switches to the image's systemd. */
export async function ensureInitramfs(kernel: string, busybox: string): Promise<string> {
  const version = kernel.replace(/^.*vmlinuz-/, "");
  const path = `${CACHE_DIR}/initrd-systemd-v2-${version}.img`;
  if (exists(path)) return path;
  const chunks: Uint8Array[] = [];
  const cpio = new CpioWriter({
    write: (c) => {
      chunks.push(c.slice());
      return Promise.resolve();
    },
  });
  for (const d of ["bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"]) {
    await cpio.dir(d);
  }
  await cpio.charDevice("dev/console", 5, 1);
  await cpio.file("bin/busybox", await Deno.readFile(busybox), 0o755);
  const names: string[] = [];
  for (const m of MODULES) {
    const name = m.replace(/^.*\//, "");
    await cpio.file(`lib/modules/${name}`, await Deno.readFile(`/lib/modules/${version}/${m}`));
    names.push(name);
  }
  await cpio.file(
    "init",
    `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${names.join(" ")}; do insmod /lib/modules/$m; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
`,
    0o755,
  );
  await cpio.finish();
  const tmp = `${path}.tmp`;
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  await Deno.writeFile(tmp, all);
  await Deno.rename(tmp, path);
  return path;
}

/** Null when the cached systemd guest is ready, else a one-line reason. */
export function systemdImageMissing(): string | null {
  if (!exists(`${debootstrapDir()}/sbin/init`)) {
    return `systemd VM test skipped: no Debian rootfs cached at ${debootstrapDir()} ` +
      `(build it once: ./deno task vm:rootfs, a few minutes, needs root and deb.debian.org)`;
  }
  return null;
}
