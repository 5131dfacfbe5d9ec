/**
 * Child process for driftfile_test.ts. `write PATH`: rewrites the driftfile in a tight loop
 * with values where skew = 1000 * chrony frequency (so a torn file is detectable), printing
 * "ready" after the first write. `read PATH`: prints readDriftFile(PATH) as JSON (a restart).
 *
 * @module
 */
import { formatDriftFile, readDriftFile } from "../../src/io/driftfile.ts";
import { writeFileAtomicSync } from "../../src/io/files.ts";

const writeDriftFileSync = (path: string, values: { freqPpm: number; skewPpm: number }) =>
  writeFileAtomicSync(path, formatDriftFile(values));

const [mode, path] = Deno.args;
if (mode === "write") {
  let i = 1;
  writeDriftFileSync(path, { freqPpm: -i / 1000, skewPpm: i });
  console.log("ready");
  for (;;) {
    i++;
    writeDriftFileSync(path, { freqPpm: -i / 1000, skewPpm: i });
  }
} else if (mode === "read") {
  console.log(JSON.stringify(readDriftFile(path)));
}
