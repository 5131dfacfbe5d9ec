/**
 * The command server's maintenance commands (issue 13, items 4, 6 and 10): authdata in
 * chrony's wire form ("-" for Last is (uint32_t)-1), rekey and reload sources reaching the
 * control (and failing when it cannot do them), add source answering 511 at once.
 */
import assert from "node:assert/strict";
import { addSourceRequest } from "./add_source.ts";
import { decodeReply, encodeRequest } from "./codec.ts";
import { REQ, RPY, STT } from "./constants.ts";
import { parseIpAddr } from "./ip_addr.ts";
import type { RequestCode, RequestData } from "./requests.ts";
import { handleCommand } from "./server.ts";
import type { AuthDataReport, ControlResult } from "../core/control.ts";
import { FakeControl } from "../../tests/helpers/fake_control.ts";

function send<C extends RequestCode>(
  control: FakeControl,
  command: C,
  data: Partial<RequestData<C>> = {},
) {
  const reply = handleCommand(
    encodeRequest({ command, sequence: 7, data }),
    { full: true },
    control,
  );
  assert.ok(reply !== null);
  const r = decodeReply(reply);
  assert.ok(r.ok);
  return r.reply;
}

class MaintenanceControl extends FakeControl {
  rekeyResult: ControlResult = { ok: true };
  reloaded = 0;
  authData(address: string): AuthDataReport | null {
    if (address !== "192.0.2.1") return null;
    return {
      mode: "symmetric",
      keyId: 5,
      keyType: 3,
      keyLengthBits: 200,
      keAttempts: 0,
      lastKeAgo: null,
      cookies: 0,
      cookieLength: 0,
      nak: 0,
    };
  }
  rekey(): ControlResult {
    return this.rekeyResult;
  }
  reloadSources(): ControlResult {
    this.reloaded++;
    return { ok: true };
  }
  override addSource(): ControlResult {
    return { ok: false, status: "sourcealreadyknown" };
  }
}

Deno.test("authdata: a control without authData answers mode none and Last (uint32_t)-1", () => {
  const r = send(new FakeControl(), REQ.AUTH_DATA, { ip: parseIpAddr("192.0.2.1")! });
  assert.equal(r.header.reply, RPY.AUTH_DATA);
  const d = r.data as Record<string, number>;
  assert.equal(d.mode, 0);
  assert.equal(d.lastKeAgo, 0xffffffff);
  assert.equal(d.keyId, 0);
  const none = send(new FakeControl(), REQ.AUTH_DATA, { ip: parseIpAddr("198.51.100.1")! });
  assert.equal(none.header.status, STT.NOSUCHSOURCE);
});

Deno.test("authdata: a keyed source's id, chrony type number and bits", () => {
  const r = send(new MaintenanceControl(), REQ.AUTH_DATA, { ip: parseIpAddr("192.0.2.1")! });
  const d = r.data as Record<string, number>;
  assert.deepEqual([d.mode, d.keyId, d.keyType, d.keyLength, d.lastKeAgo], [
    1,
    5,
    3,
    200,
    0xffffffff,
  ]);
});

Deno.test("rekey and reload sources reach the control; without it they fail, never 200", () => {
  assert.equal(send(new FakeControl(), REQ.REKEY).header.status, STT.FAILED);
  assert.equal(send(new FakeControl(), REQ.RELOAD_SOURCES).header.status, STT.FAILED);
  const control = new MaintenanceControl();
  assert.equal(send(control, REQ.RELOAD_SOURCES).header.status, STT.SUCCESS);
  assert.equal(control.reloaded, 1);
  assert.equal(send(control, REQ.REKEY).header.status, STT.SUCCESS);
  control.rekeyResult = { ok: false, status: "failed" };
  assert.equal(send(control, REQ.REKEY).header.status, STT.FAILED);
});

Deno.test("add source: a result known at once (address in use) is answered, 511", () => {
  const data = addSourceRequest(["server", "192.0.2.1"]);
  assert.ok(typeof data !== "string");
  const r = send(new MaintenanceControl(), REQ.ADD_SOURCE, data);
  assert.equal(r.header.status, STT.SOURCEALREADYKNOWN);
});
