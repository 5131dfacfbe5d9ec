/** The tempus version, printed by `tempus --version` and sent in logs. */
export const VERSION = "0.1.0";

/**
 * The release date of this build (set by the release, never later than the build). The true
 * time is certainly not earlier: a system clock before it is wrong, and certificates are then
 * checked against this date instead (src/nts/cert_time.ts).
 */
export const RELEASE_DATE = "2026-12-05T00:00:00Z";

/** RELEASE_DATE in Unix seconds. */
export const RELEASE_UNIX_TIME = Date.parse(RELEASE_DATE) / 1000;
