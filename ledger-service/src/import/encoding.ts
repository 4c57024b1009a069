import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

// Bank exports come in UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text"), Windows-1252 and
// ISO-8859-1. The bytes decide: a BOM names its encoding; text that is valid UTF-8 is UTF-8; otherwise it is a
// single-byte Western encoding, and Windows-1252 is the superset browsers and Excel use for ISO-8859-1.

export type TextEncoding = 'utf8' | 'utf16le' | 'utf16be' | 'windows1252' | 'latin1';

export function detectEncoding(bytes: Uint8Array): TextEncoding {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf16be';
  // UTF-16 without a BOM: ASCII text has a zero in every other byte.
  const sample = bytes.subarray(0, 512);
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let index = 0; index < sample.length; index += 1) {
    if (sample[index] === 0) {
      if (index % 2 === 0) zeroEven += 1;
      else zeroOdd += 1;
    }
  }
  if (sample.length >= 4 && zeroOdd > sample.length / 4 && zeroEven === 0) return 'utf16le';
  if (sample.length >= 4 && zeroEven > sample.length / 4 && zeroOdd === 0) return 'utf16be';
  // Checked in place: decoding the whole file to test it made a throwaway copy of it as a string.
  return isUtf8(bytes) ? 'utf8' : 'windows1252';
}

/** Decodes the whole file; the BOM, if any, is dropped. */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding = detectEncoding(bytes)): { text: string; encoding: TextEncoding } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = iconv.decode(buffer, encoding === 'utf16be' ? 'utf16-be' : encoding, { stripBOM: true });
  return { text, encoding };
}
