/**
 * tempus: a chrony-class NTP daemon and client. This entry hands the command line to the CLI.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
