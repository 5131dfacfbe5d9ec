/**
 * The guest side of the VM tests: runs the scenarios named in the first argument
 * (comma-separated) in order and prints one result line per scenario on the console.
 *
 * @module
 */
import { RESULT_MARKER } from "./marker.ts";
import { SCENARIOS } from "./scenarios.ts";

/** Runs each named scenario and prints `RESULT_MARKER {json}`. */
export async function runScenarios(names: string[]): Promise<void> {
  for (const name of names) {
    const run = SCENARIOS[name];
    let result: Record<string, unknown>;
    if (!run) result = { scenario: name, error: `unknown scenario ${name}` };
    else {
      try {
        result = { scenario: name, ...(await run()) };
      } catch (e) {
        result = { scenario: name, error: e instanceof Error ? `${e.message}` : String(e) };
      }
    }
    console.log(RESULT_MARKER + JSON.stringify(result));
  }
}

if (import.meta.main) {
  await runScenarios((Deno.args[0] ?? "").split(",").filter(Boolean));
}
