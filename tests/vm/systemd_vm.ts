/**
 * Boots the cached Debian systemd guest (tests/vm/rootfs.ts) with dist/tempus, the units of
 * dist/ and tests/vm/systemd_guest/run.sh on a second disk, reaching a chronyd on the host
 * through qemu's user network, and parses what run.sh printed.
 *
 * @module
 */
import { findVmTools } from "./build.ts";
import { accelerator } from "./host_ntp.ts";
import { ensureImage, ensureInitramfs } from "./rootfs.ts";
import { PROJECT_ROOT } from "./runner.ts";

/** What run.sh reported. */
export interface GuestReport {
  /** TEMPUS-VM-KV key=value lines. */
  kv: Map<string, string>;
  /** TEMPUS-VM-OUT name|line lines, grouped by name. */
  out: Map<string, string[]>;
  /** The whole console. */
  console: string;
  /** True when run.sh got to its end. */
  done: boolean;
  /** Wall-clock ms qemu ran. */
  ms: number;
  /** "kvm" or "tcg". */
  accel: string;
}

/** Parses the harness lines out of console text. */
export function parseReport(text: string): Pick<GuestReport, "kv" | "out" | "done"> {
  const kv = new Map<string, string>();
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    let m = /TEMPUS-VM-KV ([a-z0-9_]+)=(.*)$/.exec(line);
    if (m) {
      kv.set(m[1], m[2]);
      continue;
    }
    m = /TEMPUS-VM-OUT ([a-z0-9_]+)\|(.*)$/.exec(line);
    if (m) {
      if (!out.has(m[1])) out.set(m[1], []);
      out.get(m[1])!.push(m[2]);
    }
  }
  return { kv, out, done: text.includes("TEMPUS-VM-DONE") };
}

/** Options of one boot. */
export interface SystemdBootOptions {
  /** dist/tempus to install. */
  dist: string;
  /** The host NTP server's port on 127.0.0.1. */
  ntpPort: number;
  /** Seconds the guest clock starts ahead. */
  plantSeconds: number;
  /** Seconds the daemon runs after time-sync.target before the final measurement. */
  disciplineSeconds: number;
  /** Kill qemu after this many ms. */
  timeoutMs: number;
  /** systemd's boot status on the console (for debugging). */
  showStatus?: boolean;
}

async function harnessTar(options: SystemdBootOptions, busybox: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-harness-" });
  await Deno.copyFile(options.dist, `${dir}/tempus`);
  await Deno.copyFile(`${PROJECT_ROOT}/dist/tempus.service`, `${dir}/tempus.service`);
  await Deno.copyFile(
    `${PROJECT_ROOT}/dist/tempus-wait-sync.service`,
    `${dir}/tempus-wait-sync.service`,
  );
  await Deno.copyFile(busybox, `${dir}/busybox`);
  await Deno.copyFile(`${PROJECT_ROOT}/tests/vm/systemd_guest/run.sh`, `${dir}/run.sh`);
  await Deno.writeTextFile(
    `${dir}/params`,
    `SERVER=10.0.2.2:${options.ntpPort}\nPLANT_SECONDS=${options.plantSeconds}\n` +
      `DISCIPLINE_SECONDS=${options.disciplineSeconds}\n`,
  );
  const tar = `${dir}.tar`;
  const out = await new Deno.Command("tar", {
    args: ["-cf", tar, "-C", dir, "."],
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  if (!out.success) throw new Error(`tar: ${new TextDecoder().decode(out.stderr)}`);
  return tar;
}

/** Boots the systemd guest once and returns its report. */
export async function bootSystemdVm(options: SystemdBootOptions): Promise<GuestReport> {
  const tools = findVmTools(PROJECT_ROOT);
  if ("missing" in tools) throw new Error(tools.missing);
  const image = await ensureImage();
  const initrd = await ensureInitramfs(tools.kernel, tools.busybox);
  const tar = await harnessTar(options, tools.busybox);
  const accel = accelerator();
  const args = [
    "-nographic",
    "-no-reboot",
    "-m",
    "1536",
    "-smp",
    "2",
    "-accel",
    accel,
    "-kernel",
    tools.kernel,
    "-initrd",
    initrd,
    "-append",
    `console=ttyS0 quiet loglevel=3 systemd.show_status=${
      options.showStatus ? 1 : 0
    } panic=-1 net.ifnames=0`,
    "-drive",
    `file=${image},format=raw,if=virtio`,
    "-drive",
    `file=${tar},format=raw,if=virtio,readonly=on`,
    "-snapshot",
    "-nic",
    "user,model=virtio-net-pci",
    "-rtc",
    "base=utc",
  ];
  const t0 = performance.now();
  const child = new Deno.Command(tools.qemu, {
    args,
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
    await Deno.remove(tar).catch(() => {});
  }
}
