/**
 * Builds the VM's initramfs: a cached base archive (busybox, the deno binary and its shared
 * libraries, device nodes) plus a small project archive rebuilt on every run (the project's
 * sources, the npm packages it imports, /init). The two gzip'd cpio archives are
 * concatenated into .vm-build/initrd.img, which Linux unpacks in order.
 *
 * The project lands at the same absolute path in the guest as on the host, and deno runs
 * there with DENO_DIR inside the initramfs and --cached-only, so it never needs a network.
 *
 * @module
 */
import { type ByteSink, CpioWriter } from "./cpio.ts";

/** Marker that starts every result line the guest prints. */
export { RESULT_MARKER } from "./guest/marker.ts";

/** The host tools a VM test needs. */
export interface VmTools {
  /** qemu-system-x86_64. */
  qemu: string;
  /** The guest kernel (vmlinuz). */
  kernel: string;
  /** A static busybox. */
  busybox: string;
  /** The real deno binary (symlinks resolved). */
  deno: string;
}

function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

function findKernel(): string | null {
  const wanted = Deno.env.get("TEMPUS_VM_KERNEL");
  if (wanted) return wanted;
  try {
    const names = [...Deno.readDirSync("/boot")].map((e) => e.name)
      .filter((n) => /^vmlinuz-.*cloud-amd64$/.test(n)).sort();
    if (names.length) return `/boot/${names.at(-1)}`;
    const any = [...Deno.readDirSync("/boot")].map((e) => e.name)
      .filter((n) => n.startsWith("vmlinuz-")).sort();
    if (any.length) return `/boot/${any.at(-1)}`;
  } catch {
    // no /boot
  }
  return null;
}

/** Finds qemu, a kernel, busybox and deno; returns a message naming what is missing. */
export function findVmTools(root: string): VmTools | { missing: string } {
  const qemu = which("qemu-system-x86_64");
  const kernel = findKernel();
  const busybox = which("busybox");
  let deno: string | null = null;
  try {
    deno = Deno.realPathSync(`${root}/node_modules/.bin/deno`);
  } catch {
    deno = Deno.execPath();
  }
  const missing = [
    qemu ? null : "qemu-system-x86_64",
    kernel ? null : "a kernel in /boot (vmlinuz-*)",
    busybox ? null : "busybox",
  ].filter((x) => x !== null);
  if (missing.length || !qemu || !kernel || !busybox) {
    return { missing: `VM tests skipped: ${missing.join(", ")} not found` };
  }
  try {
    Deno.readFileSync(kernel).subarray(0, 1);
  } catch {
    return { missing: `VM tests skipped: ${kernel} is not readable` };
  }
  return { qemu, kernel, busybox, deno };
}

/** The shared libraries a binary loads, from ldd (absolute paths). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await new Deno.Command("ldd", { args: [binary], stdout: "piped", stderr: "null" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const libs = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs];
}

/** A sink into a gzip process (level 1: fast), or plain into a file when gzip is absent. */
async function openArchiveFile(path: string): Promise<{ sink: ByteSink; close(): Promise<void> }> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  if (which("gzip") === null) {
    const writer = file.writable.getWriter();
    return {
      sink: { write: (c) => writer.write(c) },
      close: () => writer.close(),
    };
  }
  const child = new Deno.Command("gzip", { args: ["-1", "-c"], stdin: "piped", stdout: "piped" })
    .spawn();
  const piping = child.stdout.pipeTo(file.writable);
  const writer = child.stdin.getWriter();
  return {
    sink: { write: (c) => writer.write(c) },
    async close() {
      await writer.close();
      await piping;
      const status = await child.status;
      if (!status.success) throw new Error(`gzip failed for ${path}`);
    },
  };
}

/** Writes every directory of `path` (and its parents) not yet in the archive. */
async function mkdirs(cpio: CpioWriter, path: string): Promise<void> {
  const parts = path.replace(/^\/+/, "").split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    if (!cpio.has(dir)) await cpio.dir(dir);
  }
}

async function addHostFile(cpio: CpioWriter, hostPath: string, guestPath: string, perm?: number) {
  const dir = guestPath.replace(/\/[^/]*$/, "");
  if (dir) await mkdirs(cpio, dir);
  const info = await Deno.stat(hostPath);
  const mode = perm ?? ((info.mode ?? 0o644) & 0o777);
  await cpio.file(guestPath, await Deno.readFile(hostPath), mode);
}

async function addTree(
  cpio: CpioWriter,
  hostDir: string,
  guestDir: string,
  skip: (name: string) => boolean = () => false,
): Promise<number> {
  let count = 0;
  await mkdirs(cpio, guestDir);
  const entries = [...Deno.readDirSync(hostDir)].sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (skip(e.name)) continue;
    const h = `${hostDir}/${e.name}`;
    const g = `${guestDir}/${e.name}`;
    if (e.isDirectory) count += await addTree(cpio, h, g, skip);
    else if (e.isFile) {
      await addHostFile(cpio, h, g);
      count++;
    } else if (e.isSymlink) {
      // Follow links (deno's node_modules/.deno layout links packages in): the guest gets
      // plain copies, which nodeModulesDir "manual" reads the same way.
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(h);
      } catch {
        continue; // dangling
      }
      if (info.isDirectory) count += await addTree(cpio, Deno.realPathSync(h), g, skip);
      else if (info.isFile) {
        await addHostFile(cpio, h, g);
        count++;
      }
    }
  }
  return count;
}

/** The guest's /init: mounts, loopback, runs the scenarios named on the command line. */
export function initScript(root: string): string {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/null >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin:/sbin HOME=/root TZ=UTC NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
export DENO_DIR=/var/cache/deno
ip link set lo up
scenarios=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    tempus.scenario=*) scenarios="\${arg#tempus.scenario=}" ;;
  esac
done
echo "TEMPUS-VM-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
cd ${root}
/bin/deno run -A --unstable-net --cached-only --no-prompt tests/vm/guest/main.ts "$scenarios"
echo "TEMPUS-VM-DONE rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
sleep 5
`;
}

/** Result of a build. */
export interface BuildResult {
  /** The concatenated initramfs to hand to qemu -initrd. */
  initrd: string;
  /** True when the base archive came from the cache. */
  baseCached: boolean;
  /** Milliseconds the build took. */
  ms: number;
}

async function buildBase(tools: VmTools, path: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  const out = await openArchiveFile(tmp);
  const cpio = new CpioWriter(out.sink);
  for (const d of ["bin", "sbin", "dev", "proc", "sys", "tmp", "run", "root", "etc", "var"]) {
    await cpio.dir(d, d === "tmp" ? 0o1777 : 0o755);
  }
  await cpio.charDevice("dev/console", 5, 1);
  await cpio.charDevice("dev/null", 1, 3, 0o666);
  await cpio.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  await cpio.file("etc/group", "root:x:0:\n");
  await cpio.file("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n");
  await addHostFile(cpio, tools.busybox, "bin/busybox", 0o755);
  await addHostFile(cpio, tools.deno, "bin/deno", 0o755);
  for (const lib of await sharedLibraries(tools.deno)) {
    await addHostFile(cpio, lib, lib, 0o755);
    const real = Deno.realPathSync(lib);
    if (real !== lib && !cpio.has(real)) await addHostFile(cpio, real, real, 0o755);
  }
  await cpio.finish();
  await out.close();
  await Deno.rename(tmp, path);
}

/** The project files that go into the guest (relative to the project root). */
export const PROJECT_FILES = ["mod.ts", "deno.json", "package.json"];
/** Project directories copied whole. */
export const PROJECT_DIRS = ["src", "ffi", "tests/vm/guest", "node_modules/smol-toml"];
/** npm scopes copied whole. */
export const PROJECT_SCOPES = ["node_modules/@logtape"];

async function buildProject(root: string, path: string, denoDir: string | null): Promise<void> {
  const out = await openArchiveFile(path);
  const cpio = new CpioWriter(out.sink);
  const skipTests = (name: string) => name.endsWith("_test.ts");
  await mkdirs(cpio, root);
  for (const f of PROJECT_FILES) {
    try {
      await addHostFile(cpio, `${root}/${f}`, `${root}/${f}`);
    } catch {
      // optional file
    }
  }
  for (const d of [...PROJECT_DIRS, ...PROJECT_SCOPES]) {
    try {
      await addTree(cpio, `${root}/${d}`, `${root}/${d}`, skipTests);
    } catch {
      // optional directory
    }
  }
  if (denoDir) await addTree(cpio, denoDir, "var/cache/deno");
  await cpio.file("init", initScript(root), 0o755);
  await cpio.finish();
  await out.close();
}

/**
 * Fills a DENO_DIR on the host with the transpiled guest code (same absolute paths as in
 * the guest), so the guest starts without transpiling. Returns the directory, or null when
 * pre-caching failed (the guest then transpiles itself; still offline).
 */
async function warmDenoDir(tools: VmTools, root: string, buildDir: string): Promise<string | null> {
  const denoDir = `${buildDir}/deno_dir.${Deno.pid}`;
  await Deno.remove(denoDir, { recursive: true }).catch(() => {});
  // Command modules are imported lazily by src/cli/main.ts, so name them all explicitly.
  const entries = [`${root}/tests/vm/guest/main.ts`, `${root}/mod.ts`];
  for (const dir of ["src/cli", "src/daemon"]) {
    try {
      for (const e of Deno.readDirSync(`${root}/${dir}`)) {
        if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
          entries.push(`${root}/${dir}/${e.name}`);
        }
      }
    } catch {
      // directory not there yet
    }
  }
  const out = await new Deno.Command(tools.deno, {
    args: ["cache", "--quiet", ...entries],
    cwd: root,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  return out.success ? denoDir : null;
}

/** Removes per-process build files left by processes that are gone. */
function removeStale(buildDir: string): void {
  for (const e of Deno.readDirSync(buildDir)) {
    const m = /\.(\d+)(?:\.img|\.tmp|\.cpio\.gz)?$/.exec(e.name);
    if (!m || Number(m[1]) === Deno.pid) continue;
    try {
      Deno.statSync(`/proc/${m[1]}`);
    } catch {
      Deno.removeSync(`${buildDir}/${e.name}`, { recursive: true });
    }
  }
}

/** Builds (or reuses) the base archive and rebuilds the project archive. */
export async function buildInitramfs(tools: VmTools, root: string): Promise<BuildResult> {
  const t0 = performance.now();
  const buildDir = `${root}/.vm-build`;
  await Deno.mkdir(buildDir, { recursive: true });
  const denoInfo = await Deno.stat(tools.deno);
  const bbInfo = await Deno.stat(tools.busybox);
  const key = JSON.stringify({
    v: 2,
    deno: [tools.deno, denoInfo.size, denoInfo.mtime?.getTime()],
    busybox: [tools.busybox, bbInfo.size, bbInfo.mtime?.getTime()],
  });
  const basePath = `${buildDir}/base.cpio.gz`;
  let baseCached = false;
  try {
    baseCached = (await Deno.readTextFile(`${buildDir}/base.key`)) === key &&
      (await Deno.stat(basePath)).isFile;
  } catch {
    baseCached = false;
  }
  if (!baseCached) {
    await buildBase(tools, basePath);
    await Deno.writeTextFile(`${buildDir}/base.key`, key);
  }
  removeStale(buildDir);
  // Per-process names below, so parallel test runs do not trample each other.
  const denoDir = await warmDenoDir(tools, root, buildDir);
  const projectPath = `${buildDir}/project.${Deno.pid}.cpio.gz`;
  await buildProject(root, projectPath, denoDir);
  if (denoDir) await Deno.remove(denoDir, { recursive: true }).catch(() => {});
  const initrd = `${buildDir}/initrd.${Deno.pid}.img`;
  const dest = await Deno.open(initrd, { write: true, create: true, truncate: true });
  try {
    for (const part of [basePath, projectPath]) {
      const src = await Deno.open(part, { read: true });
      await src.readable.pipeTo(dest.writable, { preventClose: true });
    }
  } finally {
    dest.close();
    await Deno.remove(projectPath).catch(() => {});
  }
  return { initrd, baseCached, ms: performance.now() - t0 };
}
