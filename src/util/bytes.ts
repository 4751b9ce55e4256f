// Byte helpers used across layers. Names say what the bytes are; inputs are validated here.

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Portable (no Buffer): these helpers run in browsers too (the client bundle, src/policy).
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64_ALPHABET.length; i++) B64_VALUE[B64_ALPHABET.charCodeAt(i)] = i;
const HEX_DIGITS = '0123456789abcdef';
const HEX_BYTE: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4] + HEX_DIGITS[i & 15]);

// Node's native base64 where there is one (10-20x faster on a 3 KB ML-DSA-44 line than the
// loops below); browsers take the portable code. Found at run time, never imported.
type NativeBuffer = { from(s: string, enc: 'base64'): Uint8Array & { toString(enc: 'base64'): string }; from(b: ArrayBufferLike, off: number, len: number): { toString(enc: 'base64'): string } };
const NATIVE = (globalThis as { Buffer?: NativeBuffer }).Buffer;

/**
 * Strict standard base64 (RFC 4648 §4, padding required), as Go's base64.StdEncoding:
 * rejects any character outside the alphabet (Node's decoder would silently skip it).
 * Non-zero trailing bits are tolerated like Go (the decoded bytes are the same).
 */
export function decodeBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  if (NATIVE !== undefined) {
    // Node's decoder is lenient (it skips foreign characters, takes URL-safe ones and missing
    // padding), so its answer counts only when re-encoding it gives back exactly s: then s is
    // canonical base64, which the strict path below accepts with the same bytes. Anything else
    // (invalid, or valid with non-zero trailing bits) is decided by the strict path.
    const b = NATIVE.from(s, 'base64');
    if (b.toString('base64') === s) return new Uint8Array(b);
  }
  return decodeBase64Portable(s);
}

/** decodeBase64 without the native fast path (exported for tests that compare the two). */
export function decodeBase64Portable(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !B64_RE.test(s)) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (s.indexOf('=') !== -1 && s.indexOf('=') < s.length - pad) return null;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    // Validated above: every character before the padding is in the alphabet.
    const a = B64_VALUE[s.charCodeAt(i)];
    const b = B64_VALUE[s.charCodeAt(i + 1)];
    const c = s[i + 2] === '=' ? 0 : B64_VALUE[s.charCodeAt(i + 2)];
    const d = s[i + 3] === '=' ? 0 : B64_VALUE[s.charCodeAt(i + 3)];
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

export function encodeBase64(b: Uint8Array): string {
  return NATIVE !== undefined ? NATIVE.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') : encodeBase64Portable(b);
}

/** encodeBase64 without the native fast path (exported for tests that compare the two). */
export function encodeBase64Portable(b: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63] + B64_ALPHABET[(n >> 6) & 63] + B64_ALPHABET[n & 63];
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i] << 16;
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63] + B64_ALPHABET[(n >> 6) & 63] + '=';
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i++) out += HEX_BYTE[b[i]];
  return out;
}

export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatList(parts);
}

/** concatBytes for a list of any length (a spread of tens of thousands of parts overflows the stack). */
export function concatList(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, returning null for invalid sequences (never substitutes U+FFFD). */
export function decodeUtf8(b: Uint8Array): string | null {
  try {
    return strictDecoder.decode(b);
  } catch {
    return null;
  }
}

export function u64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset);
}

export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

export function readU32be(b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset);
}
