/**
 * NFC Forum NDEF: one message holding one well-known URI record (RTD "U"),
 * for tags and phone card emulation. The identifier code is 0x00 (no
 * abbreviation): the whole URI follows, so `ethereum:` needs no prefix table.
 */

const MB = 0x80;
const ME = 0x40;
const SR = 0x10;
const TNF_WELL_KNOWN = 0x01;

/** The bytes of an NDEF message with a single URI record for `uri` (short record when the payload fits in 255 bytes). */
export function ndefUriMessage(uri: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0x00]), Buffer.from(uri, "utf8")]);
  const type = Buffer.from("U", "ascii");
  if (payload.length <= 255) {
    return Buffer.concat([Buffer.from([MB | ME | SR | TNF_WELL_KNOWN, type.length, payload.length]), type, payload]);
  }
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([Buffer.from([MB | ME | TNF_WELL_KNOWN, type.length]), len, type, payload]);
}
