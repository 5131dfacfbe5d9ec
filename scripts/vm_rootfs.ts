/**
 * Builds (once) the cached Debian systemd guest of tests/vm/systemd_test.ts: debootstrap
 * from Debian's archive (a few minutes, needs root), then the ext4 image.
 * Usage: ./deno task vm:rootfs
 *
 * @module
 */
import { ensureDebootstrap, ensureImage } from "../tests/vm/rootfs.ts";

const t0 = performance.now();
console.log(`debootstrap tree: ${await ensureDebootstrap()}`);
console.log(`image: ${await ensureImage()} (${Math.round((performance.now() - t0) / 1000)} s)`);
