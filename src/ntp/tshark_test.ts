/**
 * Cross-check of the encoder against an independent dissector: random NTPv4 packets (with
 * extension fields and MACs) are written to a pcap and read back by tshark, whose field
 * values must match what we encoded. Skipped when tshark is not installed.
 */
import assert from "node:assert/strict";
import { encodePacket, type NtpPacket } from "./packet.ts";
import { secondsToNtpShort } from "./timestamp.ts";
import { randomPacket, seededRandom } from "../../tests/helpers/random.ts";

const TSHARK = "/usr/bin/tshark";
const haveTshark = (() => {
  try {
    return Deno.statSync(TSHARK).isFile;
  } catch {
    return false;
  }
})();

/** A pcap (LINKTYPE_RAW) holding one IPv4/UDP 123->123 datagram per payload. */
function pcap(payloads: Uint8Array[]): Uint8Array {
  const size = 24 + payloads.reduce((n, p) => n + 16 + 28 + p.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 101, true);
  let at = 24;
  for (const payload of payloads) {
    const len = 28 + payload.length;
    v.setUint32(at + 8, len, true);
    v.setUint32(at + 12, len, true);
    at += 16;
    out[at] = 0x45;
    v.setUint16(at + 2, len);
    out[at + 8] = 64;
    out[at + 9] = 17;
    out.set([127, 0, 0, 1, 127, 0, 0, 1], at + 12);
    v.setUint16(at + 20, 123);
    v.setUint16(at + 22, 123);
    v.setUint16(at + 24, 8 + payload.length);
    out.set(payload, at + 28);
    at += len;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function expected(p: NtpPacket): string {
  const extLengths = p.extensions.map((e, i) => {
    const isLast = i === p.extensions.length - 1;
    const base = 4 + Math.ceil(e.value.length / 4) * 4;
    return Math.max(base, isLast && p.mac === null ? 28 : 16);
  });
  return [
    p.leap,
    p.version,
    p.mode,
    p.stratum,
    p.poll & 0xff,
    p.precision & 0xff,
    secondsToNtpShort(p.rootDelay),
    secondsToNtpShort(p.rootDispersion),
    p.refId.toString(16).padStart(8, "0"),
    p.extensions.map((e) => `0x${e.type.toString(16).padStart(4, "0")}`).join(","),
    extLengths.join(","),
    p.mac === null ? "" : p.mac.keyId.toString(16).padStart(8, "0"),
    p.mac === null ? "" : hex(p.mac.digest),
  ].join("|");
}

Deno.test({
  name: "tshark reads our encoded packets field for field",
  ignore: !haveTshark,
  async fn() {
    const rnd = seededRandom(2026);
    const packets: NtpPacket[] = [];
    while (packets.length < 150) {
      const p = randomPacket(rnd);
      // tshark shows refid as an address only for stratum >= 2 server/peer packets (v4).
      if (p.version !== 4 || p.mode !== 4 || p.stratum < 2 || p.stratum > 15) continue;
      packets.push(p);
    }
    const dir = await Deno.makeTempDir({ prefix: "tempus-tshark-" });
    try {
      await Deno.writeFile(`${dir}/ntp.pcap`, pcap(packets.map(encodePacket)));
      const fields = [
        "ntp.flags.li",
        "ntp.flags.vn",
        "ntp.flags.mode",
        "ntp.stratum",
        "ntp.ppoll",
        "ntp.precision",
        "ntp.rootdelay",
        "ntp.rootdispersion",
        "ntp.refid",
        "ntp.ext.type",
        "ntp.ext.length",
        "ntp.keyid",
        "ntp.mac",
      ];
      const out = await new Deno.Command(TSHARK, {
        args: [
          "-r",
          `${dir}/ntp.pcap`,
          "-T",
          "fields",
          "-E",
          "separator=|",
          ...fields.flatMap((f) => ["-e", f]),
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(out.code, 0);
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert.equal(lines.length, packets.length);
      let withExtensions = 0;
      for (let i = 0; i < packets.length; i++) {
        assert.equal(lines[i], expected(packets[i]), `packet ${i}`);
        if (packets[i].extensions.length > 0) withExtensions++;
      }
      assert.ok(withExtensions > 50);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
