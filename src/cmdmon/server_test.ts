import assert from "node:assert/strict";
import { addSourceRequest } from "./add_source.ts";
import { decodeReply, encodeRequest, type Reply } from "./codec.ts";
import { REQ, RPY, STT } from "./constants.ts";
import { formatIpAddr, parseIpAddr } from "./ip_addr.ts";
import { requestLength } from "./messages.ts";
import type { ReplyCode } from "./replies.ts";
import { isRequestCode, type RequestCode, type RequestData } from "./requests.ts";
import { handleCommand, openCommandsFromNames } from "./server.ts";
import { FakeControl, fakeNtpData, fakeTracking } from "../../tests/helpers/fake_control.ts";

const FULL = { full: true };
const UDP = { full: false };

function request<C extends RequestCode>(
  command: C,
  data: Partial<RequestData<C>> = {},
  length?: number,
) {
  return encodeRequest({ command, sequence: 0x01020304, data, length });
}

/** The reply, checked to be of code `code` (so its data is typed). */
function expectReply<R extends ReplyCode>(reply: Reply | null, code: R): Reply<R> {
  assert.ok(reply !== null && reply.reply === code, `reply code ${reply?.reply} is ${code}`);
  return reply as Reply<R>;
}

function run(packet: Uint8Array, access = FULL, control = new FakeControl()) {
  const reply = handleCommand(packet, access, control);
  if (reply === null) return { reply, control, decoded: null };
  const result = decodeReply(reply);
  assert.ok(result.ok, "reply decodes");
  assert.ok(reply.length <= packet.length, "reply not longer than request");
  return { reply, control, decoded: result.reply };
}

Deno.test("tracking goes out in chrony's signs", () => {
  const decoded = expectReply(run(request(REQ.TRACKING), UDP).decoded, RPY.TRACKING);
  assert.equal(decoded.header.status, STT.SUCCESS);
  assert.equal(decoded.header.sequence, 0x01020304);
  const d = decoded.data;
  const t = fakeTracking();
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= Math.abs(b) * 1e-6);
  close(d.currentCorrection, +t.systemTimeOffset); // > 0: "slow of NTP time"
  close(d.lastOffset, -t.lastOffset);
  close(d.freqPpm, -t.freqPpm); // tempus +12.5 (made faster) = chrony -12.5 ("slow")
  close(d.residFreqPpm, -t.residualFreqPpm);
  close(d.skewPpm, t.skewPpm);
  assert.equal(d.refId, 0xc0000201);
  assert.equal(formatIpAddr(d.ipAddr), "192.0.2.1");
  assert.equal(d.refTime, t.refTime);
});

Deno.test("sources, sourcestats and selectdata flip offsets; bad index is NOSUCHSOURCE", () => {
  const src = expectReply(
    run(request(REQ.SOURCE_DATA, { index: 0 }), UDP).decoded,
    RPY.SOURCE_DATA,
  );
  assert.ok(Math.abs(src.data.latestMeas - 0.00012) < 1e-9);
  assert.ok(Math.abs(src.data.origLatestMeas - 0.00015) < 1e-9);
  assert.equal(src.data.state, 0);
  assert.equal(src.data.reachability, 0o377);
  const stats = expectReply(
    run(request(REQ.SOURCESTATS, { index: 1 }), UDP).decoded,
    RPY.SOURCESTATS,
  );
  assert.ok(Math.abs(stats.data.estOffset + 0.0015) < 1e-9);
  assert.ok(Math.abs(stats.data.residFreqPpm - 1.234) < 1e-5);
  const sel = expectReply(
    run(request(REQ.SELECT_DATA, { index: 0 }), FULL).decoded,
    RPY.SELECT_DATA,
  );
  assert.ok(Math.abs(sel.data.loLimit + 0.0001) < 1e-9);
  assert.ok(Math.abs(sel.data.hiLimit - 0.0003) < 1e-9);
  const bad = run(request(REQ.SOURCE_DATA, { index: 7 }), UDP).decoded!;
  assert.equal(bad.header.status, STT.NOSUCHSOURCE);
  assert.equal(bad.header.reply, RPY.NULL);
});

Deno.test("validation: lengths, types and versions as chrony's cmdmon.c", () => {
  const good = request(REQ.TRACKING);
  assert.equal(run(good.subarray(0, 27)).reply, null, "shorter than 28: dropped");
  const long = new Uint8Array(861);
  long.set(good);
  assert.equal(run(long).reply, null, "longer than 860: dropped");
  const wrongType = good.slice();
  wrongType[1] = 2;
  assert.equal(run(wrongType).reply, null);
  const res = good.slice();
  res[3] = 1;
  assert.equal(run(res).reply, null);
  const v5 = good.slice();
  v5[0] = 5;
  const r5 = run(v5).decoded!;
  assert.equal(r5.header.status, STT.BADPKTVERSION);
  assert.equal(run(v5).reply!.length, 28);
  const v4 = good.slice();
  v4[0] = 4;
  assert.equal(run(v4).reply, null);
  const short = run(good.subarray(0, 103)).decoded!;
  assert.equal(short.header.status, STT.BADPKTLENGTH);
  const unknown = good.slice();
  unknown[5] = 38; // SUBNETS_ACCESSED, obsolete
  assert.equal(run(unknown).decoded!.header.status, STT.INVALID);
  const beyond = good.slice();
  beyond[5] = 200;
  assert.equal(run(beyond).decoded!.header.status, STT.INVALID);
});

Deno.test("privileged commands need full access; UDP gets 501 and the engine is not touched", () => {
  for (const command of [REQ.MAKESTEP, REQ.BURST, REQ.SETTIME, REQ.DFREQ, REQ.SHUTDOWN]) {
    const { decoded, control } = run(request(command), UDP);
    assert.equal(decoded!.header.status, STT.UNAUTH);
    assert.deepEqual(control.methods(), []);
  }
  for (const command of [REQ.NTP_DATA, REQ.SERVER_STATS, REQ.SELECT_DATA, REQ.ACCHECK]) {
    assert.equal(run(request(command), UDP).decoded!.header.status, STT.UNAUTH);
  }
  const { decoded, control } = run(request(REQ.MAKESTEP), FULL);
  assert.equal(decoded!.header.status, STT.SUCCESS);
  assert.deepEqual(control.methods(), ["makeStepNow"]);
});

Deno.test("opencommands names are the table's own ('toString' opens nothing, no throw)", () => {
  assert.deepEqual([...openCommandsFromNames(["toString", "tracking"])].sort((a, b) => a - b), [
    REQ.NULL,
    REQ.TRACKING,
  ]);
});

Deno.test("opencommands can open ntpdata/serverstats/selectdata to UDP clients", () => {
  const access = { full: false, openCommands: openCommandsFromNames(["ntpdata", "serverstats"]) };
  const ntp = expectReply(
    run(request(REQ.NTP_DATA, { ip: parseIpAddr("192.0.2.1")! }), access).decoded,
    RPY.NTP_DATA2,
  );
  assert.equal(ntp.header.status, STT.SUCCESS);
  assert.ok(Math.abs(ntp.data.offset - 0.000321) < 1e-9);
  assert.equal(run(request(REQ.TRACKING), access).decoded!.header.status, STT.UNAUTH);
  // Tests 1 and 2 passed (tempus bits 0, 1) are chrony's bits 9 and 8, printed "110 000 0000".
  const control = new FakeControl();
  control.ntpData = () => ({ ...fakeNtpData(), tests: 0b11, interleaved: true });
  const two = run(request(REQ.NTP_DATA, { ip: parseIpAddr("192.0.2.1")! }), FULL, control);
  assert.equal(expectReply(two.decoded, RPY.NTP_DATA2).data.flags, 0x300 | 0x4000);
});

Deno.test("chrony 4.3 request lengths get the 4.3 reply forms", () => {
  const stats3 = expectReply(run(request(REQ.SERVER_STATS, {}, 72)).decoded, RPY.SERVER_STATS3);
  assert.equal(stats3.data.ntpHits, 1234);
  const stats4 = expectReply(run(request(REQ.SERVER_STATS)).decoded, RPY.SERVER_STATS4);
  assert.equal(stats4.data.ntpHits, 1234n);
  const ntp = run(request(REQ.NTP_DATA, { ip: parseIpAddr("192.0.2.1")! }, 152)).decoded!;
  assert.equal(ntp.header.reply, RPY.NTP_DATA);
  assert.equal(run(request(REQ.SERVER_STATS, {}, 71)).decoded!.header.status, STT.BADPKTLENGTH);
});

Deno.test("control commands reach the engine with tempus signs and chrony statuses", () => {
  const control = new FakeControl();
  const send = <C extends RequestCode>(command: C, data: Partial<RequestData<C>> = {}) =>
    run(request(command, data), FULL, control).decoded!.header;
  assert.equal(send(REQ.SETTIME, { ts: 1_000_000_000n }).status, STT.NOTENABLED);
  assert.equal(send(REQ.MANUAL, { option: 1 }).status, STT.SUCCESS);
  const st = expectReply(
    run(request(REQ.SETTIME, { ts: 5_000_000_000n }), FULL, control).decoded,
    RPY.MANUAL_TIMESTAMP2,
  );
  assert.equal(st.data.offset, 1.5); // tempus -1.5 (local fast) = chrony "1.50 seconds fast"
  assert.equal(send(REQ.MANUAL, { option: 9 }).status, STT.INVALID);
  assert.equal(send(REQ.DFREQ, { value: 1.5 }).status, STT.SUCCESS);
  assert.equal(send(REQ.DOFFSET2, { value: 0.25 }).status, STT.SUCCESS);
  assert.equal(send(REQ.MANUAL_DELETE, { index: 4 }).status, STT.BADSAMPLE);
  assert.equal(send(REQ.WRITERTC).status, STT.NORTC);
  assert.equal(send(REQ.ACCHECK, { ip: parseIpAddr("192.0.2.9")! }).status, STT.ACCESSALLOWED);
  assert.equal(send(REQ.CMDACCHECK, { ip: parseIpAddr("192.0.2.9")! }).status, STT.ACCESSDENIED);
  send(REQ.ALLOW, { ip: parseIpAddr("10.1.0.0")!, subnetBits: 16 });
  send(REQ.BURST, {
    mask: parseIpAddr("255.255.255.0")!,
    address: parseIpAddr("192.0.2.0")!,
    nGoodSamples: 2,
    nTotalSamples: 4,
  });
  send(REQ.ONLINE);
  const byName = new Map(control.calls.map((c) => [c.method, c.args]));
  assert.deepEqual(byName.get("adjustFrequency"), [-1.5]);
  assert.deepEqual(byName.get("adjustOffset"), [-0.25]);
  assert.deepEqual(byName.get("ntpAccess"), ["10.1.0.0/16", true, false]);
  assert.deepEqual(byName.get("burst"), [{ address: "192.0.2.0", mask: "255.255.255.0" }, 2, 4]);
  assert.deepEqual(byName.get("setConnectivity"), [{ address: null, mask: null }, true]);
  assert.deepEqual(byName.get("setTime"), [5_000_000_000n]);
});

Deno.test("every known command has a reply no longer than its padded request", () => {
  for (let command = 0; command < 75; command++) {
    const length = requestLength(command);
    if (length === 0 || !isRequestCode(command)) continue;
    const { reply } = run(request(command), FULL);
    assert.ok(reply !== null, `command ${command} answered`);
    assert.ok(reply.length <= length, `command ${command}`);
  }
});

Deno.test("add source maps chronyc's request to SourceParams-style options", () => {
  const control = new FakeControl();
  const data = {
    type: 3,
    name: "pool.example.org",
    port: 123,
    minpoll: 4,
    maxpoll: 9,
    presendMinpoll: 100,
    pollTarget: 8,
    maxSources: 4,
    minSamples: -1,
    maxSamples: -1,
    maxDelay: 3,
    maxDelayDevRatio: 10,
    asymmetry: 1,
    flags: 0x1 | 0x4 | 0x8,
  };
  const r = run(request(REQ.ADD_SOURCE, data), FULL, control).decoded!;
  assert.equal(r.header.status, STT.SUCCESS);
  const call = control.calls.find((c) => c.method === "addSource")!;
  const req = call.args[0] as { type: string; name: string; options: Record<string, unknown> };
  assert.equal(req.type, "pool");
  assert.equal(req.name, "pool.example.org");
  assert.equal(req.options.minPoll, 4);
  assert.equal(req.options.iburst, true);
  assert.equal(req.options.prefer, true);
  assert.equal(req.options.offline, false);
  assert.ok(!("presend" in req.options) && !("minSamples" in req.options));
  const bad = run(request(REQ.ADD_SOURCE, { ...data, name: "bad name" }), FULL, control).decoded!;
  assert.equal(bad.header.status, STT.INVALIDNAME);
  const badType = run(request(REQ.ADD_SOURCE, { ...data, type: 9 }), FULL, control).decoded!;
  assert.equal(badType.header.status, STT.INVALID);
});

Deno.test("add source with an option tempus lacks (copy, ipv4, certset...) is refused; nts is taken", () => {
  const data = addSourceRequest(["server", "192.0.2.7", "iburst"]);
  assert.ok(typeof data !== "string");
  const send = (changes: Partial<typeof data>) => {
    const control = new FakeControl();
    const r = run(request(REQ.ADD_SOURCE, { ...data, ...changes }), FULL, control).decoded!;
    return { status: r.header.status, added: control.methods().includes("addSource") };
  };
  // chronyc's defaults (ntsport 4460, certset 0, maxdelayquant 0) are accepted; ntsport
  // only matters with nts.
  assert.deepEqual(send({}), { status: STT.SUCCESS, added: true });
  assert.deepEqual(send({ ntsPort: 0 }), { status: STT.SUCCESS, added: true });
  for (const flag of [0x400, 0x2000, 0x4000]) {
    assert.deepEqual(send({ flags: data.flags | flag }), { status: STT.INVALID, added: false });
  }
  assert.deepEqual(send({ flags: data.flags | 0x200 }), { status: STT.SUCCESS, added: true });
  for (const changes of [{ certSet: 1 }, { maxDelayQuant: 0.01 }]) {
    assert.deepEqual(send(changes), { status: STT.INVALID, added: false }, JSON.stringify(changes));
  }
});
