/**
 * Argument parsing shared by the one-shot commands (now, plot, replay, query): node's
 * parseArgs, with a usage error printed as `tempus COMMAND: message` (exit status 2) and
 * `--help` printing the command's help (exit status 0).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The parsed arguments, or the exit status when the command is already done. */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  help: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    console.error(`tempus ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return 0;
  }
  return parsed;
}

/** The options `query` and `sync` share: reply timeout, output, address family and NTS. */
export const MEASURE_OPTIONS = {
  timeout: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "4": { type: "boolean" },
  "6": { type: "boolean" },
  nts: { type: "boolean" },
  "nts-port": { type: "string" },
  "nts-ca": { type: "string" },
} as const;
