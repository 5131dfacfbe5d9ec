/** Costs of the command protocol's hot paths: request handling, Float, report printing. */
import { encodeRequest } from "../../src/cmdmon/codec.ts";
import { REQ } from "../../src/cmdmon/constants.ts";
import { decodeFloat, encodeFloat } from "../../src/cmdmon/float.ts";
import { handleCommand } from "../../src/cmdmon/server.ts";
import { printReport } from "../../src/cli/format_report.ts";
import { FakeControl } from "../helpers/fake_control.ts";

const control = new FakeControl();
const tracking = encodeRequest({ command: REQ.TRACKING, sequence: 1 });
const sourceData = encodeRequest({ command: REQ.SOURCE_DATA, sequence: 1, data: { index: 0 } });
const makestep = encodeRequest({ command: REQ.MAKESTEP, sequence: 1 });
const garbage = new Uint8Array(100).fill(0xa5);

Deno.bench("handleCommand TRACKING (UDP access)", () => {
  control.calls.length = 0;
  handleCommand(tracking, { full: false }, control);
});

Deno.bench("handleCommand SOURCE_DATA", () => {
  handleCommand(sourceData, { full: false }, control);
});

Deno.bench("handleCommand MAKESTEP refused over UDP", () => {
  handleCommand(makestep, { full: false }, control);
});

Deno.bench("handleCommand garbage (dropped)", () => {
  handleCommand(garbage, { full: false }, control);
});

Deno.bench("Float encode+decode", () => {
  decodeFloat(encodeFloat(0.000012345));
});

Deno.bench("print_report tracking line set", () => {
  printReport(
    "Reference ID    : %R (%s)\nSystem time     : %.9O of NTP time\nFrequency       : %.3F\n",
    [0x7f000001, "127.0.0.1", 0.000012345, -12.5],
    false,
  );
});
