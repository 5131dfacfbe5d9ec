import assert from "node:assert/strict";
import type { ControlResult } from "../core/control.ts";
import type { ModifiableField } from "../core/engine/engine.ts";
import { DaemonControl, type DaemonServices, type EngineSide, type ManualSide } from "./control.ts";

Deno.test("modifySource: chronyc's names reach the engine as typed fields", () => {
  const calls: Array<[string, ModifiableField, number]> = [];
  const engine = {
    modifySource: (address: string, field: ModifiableField, value: number): ControlResult => {
      calls.push([address, field, value]);
      return { ok: true };
    },
  } as unknown as EngineSide;
  const control = new DaemonControl(engine, {} as ManualSide, {} as DaemonServices);
  assert.deepEqual(control.modifySource("192.0.2.1", "maxdelaydevratio", 4), { ok: true });
  assert.deepEqual(control.modifySource("192.0.2.1", "minPoll", 2), { ok: true });
  assert.deepEqual(calls, [["192.0.2.1", "maxDelayDevRatio", 4], ["192.0.2.1", "minPoll", 2]]);
  assert.equal(control.modifySource("192.0.2.1", "bogus", 1).ok, false);
  assert.equal(calls.length, 2, "an unknown name never reaches the engine");
});

Deno.test("modifySource: chronyc's offset command reaches the engine (was refused)", () => {
  const fields: ModifiableField[] = [];
  const engine = {
    modifySource: (_a: string, field: ModifiableField): ControlResult => {
      fields.push(field);
      return { ok: true };
    },
  } as unknown as EngineSide;
  const control = new DaemonControl(engine, {} as ManualSide, {} as DaemonServices);
  assert.deepEqual(control.modifySource("192.0.2.1", "offset", 0.25), { ok: true });
  assert.deepEqual(fields, ["offset"]);
});
