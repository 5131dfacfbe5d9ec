import assert from "node:assert/strict";
import { applyHwclockFile, clientSocketOptions } from "./edge_options.ts";
import { defaultConfig } from "../config/defaults.ts";
import type { LogLevel } from "../base/ports.ts";

Deno.test("hwclockfile: the adjtime file's third line sets UTC or LOCAL, as chronyd", () => {
  const logs: [LogLevel, string][] = [];
  const log = { log: (level: LogLevel, message: string) => logs.push([level, message]) };
  const files: Record<string, string> = {
    "/utc": "0.0 0 0.0\n0\nUTC\n",
    "/local": "0.0 0 0.0\n0\nLOCAL\n",
    "/short": "0.0 0 0.0\n",
  };
  const read = (p: string) => {
    if (!(p in files)) throw new Error("ENOENT");
    return files[p];
  };
  const c = defaultConfig();
  c.hwclockFile = "/utc";
  applyHwclockFile(c, log, read);
  assert.equal(c.rtcOnUtc, true);
  c.hwclockFile = "/local";
  applyHwclockFile(c, log, read);
  assert.equal(c.rtcOnUtc, false);
  c.hwclockFile = "/missing"; // ignored, as chronyd
  applyHwclockFile(c, log, read);
  assert.equal(c.rtcOnUtc, false);
  assert.equal(logs.length, 0);
  c.hwclockFile = "/short";
  applyHwclockFile(c, log, read);
  assert.deepEqual(logs, [["warning", "Could not read RTC LOCAL/UTC setting from /short"]]);
});

Deno.test("client socket options only when a directive asks for them", () => {
  const c = defaultConfig();
  assert.deepEqual(clientSocketOptions(c), {});
  c.bindAcqAddresses = ["127.0.0.1"];
  const o = clientSocketOptions(c);
  assert.deepEqual(o.bindAddress, { v4: "127.0.0.1", v6: null });
  assert.equal(o.configureSocket, undefined);
  c.dscp = 46;
  assert.equal(typeof clientSocketOptions(c).configureSocket, "function");
});
