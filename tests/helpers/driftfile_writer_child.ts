/**
 * Child process for driftfile_test.ts. `write PATH`: rewrites the driftfile in a tight loop
 * with values where skew = 1000 * chrony frequency (so a torn file is detectable), printing
 * "ready" after the first write. `read PATH`: prints readDriftFile(PATH) as JSON (a restart).
 *
 * @module
 */
import { readDriftFile, writeDriftFile } from "../../src/io/driftfile.ts";

const [mode, path] = Deno.args;
if (mode === "write") {
  let i = 1;
  await writeDriftFile(path, { freqPpm: -i / 1000, skewPpm: i });
  console.log("ready");
  for (;;) {
    i++;
    await writeDriftFile(path, { freqPpm: -i / 1000, skewPpm: i });
  }
} else if (mode === "read") {
  console.log(JSON.stringify(readDriftFile(path)));
}
