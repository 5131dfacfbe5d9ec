import assert from "node:assert/strict";
import { grantsFor } from "./permissions.ts";
import { denoFlags, type HostFacts } from "./grants.ts";
import { nameserverEntries } from "./daemon_grants.ts";

function host(files: Record<string, string> = {}, env: Record<string, string> = {}): HostFacts {
  return {
    env: (name) => env[name],
    readText: (path) => files[path] ?? null,
    reader: {
      readFile: (path) =>
        path in files ? { ok: true, text: files[path] } : { ok: false, error: "no such file" },
      listDir: () => null,
    },
    execPath: () => "/opt/deno/deno",
  };
}

Deno.test("permissions: nameservers become ip:53 entries", () => {
  assert.deepEqual(
    nameserverEntries("# x\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nsearch a\n"),
    ["10.0.0.53:53", "[fe80::1]:53"],
  );
  assert.deepEqual(nameserverEntries(null), []);
});

Deno.test("permissions: --version and --help get nothing at all", () => {
  for (const args of [["--version"], ["--help"], []]) {
    assert.deepEqual(denoFlags(grantsFor(args, host())), []);
  }
});

Deno.test("permissions: query of an IP literal is scoped to it; a name needs unscoped net", () => {
  assert.deepEqual(denoFlags(grantsFor(["query", "192.0.2.1"], host())), [
    "--allow-net=0.0.0.0:0,192.0.2.1:123,[::]:0",
    "--allow-ffi",
  ]);
  assert.deepEqual(denoFlags(grantsFor(["query", "-c", "3", "[2001:db8::1]:1123"], host())), [
    "--allow-net=0.0.0.0:0,[2001:db8::1]:1123,[::]:0",
    "--allow-ffi",
  ]);
  assert.ok(denoFlags(grantsFor(["sync"], host())).includes("--allow-net"));
});

Deno.test("permissions: the daemon gets its configured paths, the sources' names and DNS", () => {
  const conf = [
    "server ntp.example.org iburst",
    "driftfile /srv/t/drift",
    "keyfile /etc/t/keys",
    "logdir /srv/log",
    "pidfile /srv/run/t.pid",
    "cmdport 323",
    "bindcmdaddress 127.0.0.1",
    "bindcmdaddress /",
    "",
  ].join("\n");
  const facts = host({
    "/etc/t/t.conf": conf,
    "/etc/t/keys": "1 MD5 x\n",
    "/etc/resolv.conf": "nameserver 10.0.0.53\n",
  });
  const flags = denoFlags(grantsFor(["daemon", "-n", "-f", "/etc/t/t.conf"], facts));
  assert.deepEqual(flags, [
    "--allow-read=/etc/passwd,/etc/t/keys,/etc/t/t.conf,/proc,/srv/log,/srv/run,/srv/run/t.pid,/srv/t,/srv/t/drift",
    "--allow-write=/srv/log,/srv/run,/srv/run/t.pid,/srv/t,/srv/t/drift",
    "--allow-net=10.0.0.53:53,127.0.0.1,[::1],ntp.example.org",
    "--allow-ffi",
    "--allow-env=JOURNAL_STREAM,NOTIFY_SOCKET",
    "--allow-sys=gid,networkInterfaces,uid",
  ]);
});

Deno.test("permissions: a daemon configuration that does not parse still grants its files", () => {
  const facts = host({ "/etc/t/bad.conf": "nosuchdirective 1\n" });
  const flags = denoFlags(grantsFor(["daemon", "-n", "-f", "/etc/t/bad.conf"], facts));
  assert.equal(flags[0], "--allow-read=/etc/t/bad.conf");
});

Deno.test("permissions: a path with a comma cannot be granted", () => {
  const facts = host({ "/etc/t.conf": "driftfile /srv/a,b/drift\ncmdport 0\n" });
  assert.throws(() => denoFlags(grantsFor(["daemon", "-f", "/etc/t.conf"], facts)), /comma/);
});

Deno.test("permissions: monitoring commands read the socket directory, net unscoped", () => {
  const flags = denoFlags(grantsFor(["tracking"], host()));
  assert.ok(flags.includes("--allow-net"));
  assert.ok(flags.includes("--allow-read=/etc/hosts,/tmp,/var/run/tempus"), flags.join(" "));
  assert.ok(flags.includes("--allow-ffi"), "connected UDP sockets are libc sockets");
});

Deno.test("permissions: under systemd the daemon may write to $NOTIFY_SOCKET and $TMPDIR", () => {
  const facts = host({ "/etc/t.conf": "cmdport 0\nbindcmdaddress /\n" }, {
    NOTIFY_SOCKET: "/run/systemd/notify",
  });
  const flags = denoFlags(grantsFor(["daemon", "-f", "/etc/t.conf"], facts));
  const write = flags.find((f) => f.startsWith("--allow-write="))!.slice(14).split(",");
  assert.ok(write.includes("/run/systemd/notify") && write.includes("/tmp"), flags.join(" "));
  assert.ok(flags.includes("--allow-net"), "sd_notify's own socket has a random path");
});

Deno.test("permissions: config check reads what the daemon reads, writes nothing", () => {
  const facts = host({ "/etc/t.conf": "keyfile /etc/k\ncmdport 0\n", "/etc/k": "1 MD5 x\n" });
  const flags = denoFlags(grantsFor(["config", "check", "/etc/t.conf"], facts));
  assert.equal(flags.length, 2, flags.join(" "));
  assert.match(flags[0], /^--allow-read=.*\/etc\/k,.*\/etc\/passwd,.*\/etc\/t\.conf/);
  assert.equal(flags[1], "--allow-sys=gid,uid");
});

Deno.test("permissions: a daemon going to the background may re-run deno, nothing else", () => {
  const facts = host({ "/etc/t.conf": "cmdport 0\nbindcmdaddress /\n" });
  const flags = denoFlags(grantsFor(["daemon", "-f", "/etc/t.conf"], facts));
  assert.ok(flags.includes("--allow-run=/opt/deno/deno"), flags.join(" "));
  assert.ok(
    flags.includes(
      "--allow-env=JOURNAL_STREAM,NOTIFY_SOCKET,TEMPUS_COMMAND_LINE,TEMPUS_DAEMON_CHILD",
    ),
    flags.join(" "),
  );
  for (const fg of [["-d"], ["-n"], ["-q"], ["-Q"]]) {
    const f = denoFlags(grantsFor(["daemon", ...fg, "-f", "/etc/t.conf"], facts));
    assert.ok(!f.some((x) => x.startsWith("--allow-run")), `${fg}: ${f.join(" ")}`);
  }
});

Deno.test("permissions: a symmetric peer opens the NTP port, so net is unscoped", () => {
  const conf = "peer 192.0.2.9\ncmdport 0\nbindcmdaddress /\n";
  const facts = host({ "/etc/t/p.conf": conf, "/etc/resolv.conf": "" });
  const flags = denoFlags(grantsFor(["daemon", "-n", "-f", "/etc/t/p.conf"], facts));
  assert.ok(flags.includes("--allow-net"), flags.join(" "));
  const server = host({ "/etc/t/s.conf": conf.replace("peer", "server"), "/etc/resolv.conf": "" });
  const scoped = denoFlags(grantsFor(["daemon", "-n", "-f", "/etc/t/s.conf"], server));
  assert.ok(!scoped.includes("--allow-net"), scoped.join(" "));
});

Deno.test("permissions: manycastclient solicits through Deno's UDP: unscoped net", () => {
  const base = ["cmdport 0", "bindcmdaddress /", "pidfile /srv/run/t.pid", ""];
  const facts = (extra: string) => host({ "/etc/t/t.conf": [extra, ...base].join("\n") });
  const net = (extra: string) =>
    denoFlags(grantsFor(["daemon", "-n", "-f", "/etc/t/t.conf"], facts(extra)))
      .find((f) => f.startsWith("--allow-net"));
  assert.equal(net("manycastclient 224.0.1.1 maxsources 2"), "--allow-net");
  // The broadcast client and server use the NTP server socket (FFI), not Deno's net.
  assert.notEqual(net("broadcastclient"), "--allow-net");
});
