/** The tempus version, printed by `tempus --version` and sent in logs. */
export const VERSION = "0.1.0";
