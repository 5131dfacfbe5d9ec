/**
 * The key of an authenticated NTP source (`key N`): the key itself when the keyfile has it,
 * the form test 5 checks replies against, and whether the missing key was reported yet
 * (chronyd logs it once and sends nothing).
 *
 * @module
 */
import { KeyStore, type SymmetricKey } from "../../ntp/keyfile.ts";

/** A source's configured key and its state. */
export class SourceKey {
  /** The key, or null (none configured, or not in the keyfile). */
  readonly key: SymmetricKey | null;
  /** What test 5 checks replies against, or null without key. */
  readonly auth: { keys: KeyStore; keyId: number } | null;
  /** A key is configured but the keyfile lacks it: nothing is sent. */
  readonly missing: boolean;
  #missingReported = false;

  /** `keyId`: the configured key ID (null: none); `key`: the keyfile's key of that ID. */
  constructor(keyId: number | null, key: SymmetricKey | null | undefined) {
    this.key = keyId === null ? null : key ?? null;
    this.missing = keyId !== null && this.key === null;
    this.auth = this.key === null ? null : { keys: new KeyStore([this.key]), keyId: this.key.id };
  }

  /** True the first time only: the missing key is to be reported now. */
  reportMissing(): boolean {
    if (!this.missing || this.#missingReported) return false;
    this.#missingReported = true;
    return true;
  }
}
