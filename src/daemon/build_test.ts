import assert from "node:assert/strict";
import { loadDaemonConfig } from "./build.ts";
import type { DaemonOptions } from "./args.ts";
import { loadConfigLines } from "../config/load.ts";

Deno.test("command-line directives: each argument is one line, read as the launcher reads it", async () => {
  // A newline inside an argument is a space, for the daemon as for the permission pre-stage
  // (loadConfigLines); before, the daemon split it into a second directive.
  const configLines = ["server 192.0.2.1\niburst", "cmdport 0"];
  const options = { configLines, configFile: null } as unknown as DaemonOptions;
  const daemon = await loadDaemonConfig(options);
  const launcher = loadConfigLines(configLines);
  assert.ok(daemon.ok && launcher.ok, JSON.stringify(daemon));
  assert.equal(daemon.config.sources.length, 1);
  assert.equal(daemon.config.sources[0].params.iburst, true);
  assert.deepEqual(daemon.config, launcher.config);
});
