import assert from "node:assert/strict";
import { findChronyd } from "../../tests/helpers/peers.ts";
import { writeDriftFile } from "./driftfile.ts";

const CHRONYD = findChronyd();

Deno.test({
  name: "chronyd reads a driftfile written by tempus with the right sign" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null || Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-drift-" });
    await Deno.chmod(dir, 0o755); // chronyd reads the driftfile as its own user (_chrony)
    let child: Deno.ChildProcess | null = null;
    try {
      // tempus +12.5 ppm (clock made faster) is chrony's -12.500 (clock runs slow).
      await writeDriftFile(`${dir}/drift`, { freqPpm: 12.5, skewPpm: 0.3 });
      await Deno.writeTextFile(
        `${dir}/chrony.conf`,
        `driftfile ${dir}/drift\nport 0\ncmdport 0\nbindcmdaddress /\npidfile ${dir}/c.pid\n`,
      );
      // -x: never touch the clock. With no sources chronyd stops at once ("Nothing to do").
      child = new Deno.Command(CHRONYD as string, {
        args: ["-x", "-d", "-f", `${dir}/chrony.conf`],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child?.kill("SIGKILL"), 10_000);
      const out = await child.output();
      clearTimeout(timer);
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.match(text, /Frequency -12\.500 \+\/- 0\.300 ppm read from /);
    } finally {
      try {
        child?.kill("SIGKILL");
      } catch {
        // already exited
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "chronyd rewrites a tempus driftfile byte for byte (same format, same sign)" +
    (CHRONYD === null ? " (skipped: chronyd not installed)" : ""),
  ignore: CHRONYD === null || Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-drift-" });
    await Deno.chmod(dir, 0o777); // chronyd (as _chrony) writes drift.tmp here on exit
    let child: Deno.ChildProcess | null = null;
    try {
      const path = `${dir}/drift`;
      await writeDriftFile(path, { freqPpm: 7.25, skewPpm: 0.125 });
      const ours = await Deno.readFile(path);
      const inodeBefore = Deno.statSync(path).ino;
      await Deno.writeTextFile(
        `${dir}/chrony.conf`,
        `server 127.0.0.1 port 12399\ndriftfile ${path}\nport 0\ncmdport 0\n` +
          `bindcmdaddress /\npidfile ${dir}/c.pid\n`,
      );
      child = new Deno.Command(CHRONYD as string, {
        args: ["-x", "-d", "-f", `${dir}/chrony.conf`],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await new Promise((r) => setTimeout(r, 1000));
      child.kill("SIGTERM");
      const out = await child.output();
      const log = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      assert.match(log, /Frequency -7\.250 \+\/- 0\.125 ppm read from/);
      assert.match(log, /chronyd exiting/);
      const theirs = await Deno.readFile(path);
      // chronyd writes drift.tmp and renames it over the file: a new inode proves it wrote.
      assert.notEqual(Deno.statSync(path).ino, inodeBefore, "chronyd did not rewrite the file");
      assert.deepEqual(new TextDecoder().decode(theirs), new TextDecoder().decode(ours));
    } finally {
      try {
        child?.kill("SIGKILL");
      } catch {
        // already exited
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
