// c2sp.org/signed-note: parsing, verification (exactly Go's golang.org/x/mod/sumdb/note.Open) and signing.
import { decodeBase64, encodeBase64, concatBytes, utf8, readU32be, u32be } from '../util/bytes.js';
import { NoteError, malformedNote } from './errors.js';
import { MESSAGES } from '../errors.js';
import { formatKeyId, isValidKeyName, type Signer, type Verifier } from './keys.js';

/** Go counts every signature line, known or not, and calls a note with more than 100 malformed. */
export const MAX_SIGNATURE_LINES = 100;

const SIG_PREFIX = utf8('\u2014 '); // em dash (E2 80 94) and one space
const NL = 0x0a;
// ignoreBOM: a default TextDecoder silently drops a leading U+FEFF, which would turn the key name
// "\uFEFFexample.com/foo" into "example.com/foo" and strip a BOM from the start of the text.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export interface SignatureLine {
  readonly name: string;
  readonly keyId: number;
  /** The base64 blob exactly as it appeared in the line (key ID included). */
  readonly base64: string;
  /** The signature bytes after the 4-byte key ID. */
  readonly sig: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly textBytes: Uint8Array;
  /** Every signature line in order, duplicates included. */
  readonly signatures: SignatureLine[];
}

export interface OpenedNote extends ParsedNote {
  /** Verified signatures, one per known (name, key ID). */
  readonly verified: SignatureLine[];
  /** Lines whose (name, key ID) no verifier knows, exact duplicates dropped. */
  readonly unverified: SignatureLine[];
}

export function keyLabel(name: string, keyId: number): string {
  return `${name}+${formatKeyId(keyId)}`;
}

function toBytes(input: Uint8Array | string): Uint8Array {
  return typeof input === 'string' ? utf8(input) : input;
}

/**
 * The whole message must be valid UTF-8 with no ASCII control characters except "\n"
 * (so CR and tab are rejected).
 */
function checkCharacters(msg: Uint8Array): boolean {
  for (let i = 0; i < msg.length; i++) {
    const c = msg[i];
    if (c < 0x20 && c !== NL) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(msg);
  } catch {
    return false;
  }
  return true;
}

/** Where a note's text ends: the LAST "\n\n" (the text is msg[0, i + 1)); -1 if there is none. */
export function lastIndexOfBlankLine(msg: Uint8Array): number {
  for (let i = msg.length - 2; i >= 0; i--) if (msg[i] === NL && msg[i + 1] === NL) return i;
  return -1;
}

function startsWith(b: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at + prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Splits a note into text and signature block and yields each signature line, lazily, so that
 * openNote reports errors in the same order as Go (a bad known signature before a later
 * malformed line is reported as the bad signature).
 */
function* scanNote(msg: Uint8Array, onText: (text: Uint8Array) => void): Generator<SignatureLine & { raw: string }> {
  if (!checkCharacters(msg)) throw malformedNote();
  // The blank line separating text from signatures is the LAST "\n\n".
  const split = lastIndexOfBlankLine(msg);
  if (split < 0) throw malformedNote();
  const text = msg.subarray(0, split + 1);
  let sigs = msg.subarray(split + 2);
  if (sigs.length === 0 || sigs[sigs.length - 1] !== NL) throw malformedNote();
  onText(text);
  let count = 0;
  while (sigs.length > 0) {
    const end = sigs.indexOf(NL);
    const line = sigs.subarray(0, end);
    sigs = sigs.subarray(end + 1);
    if (!startsWith(line, SIG_PREFIX, 0)) throw malformedNote();
    const rest = decoder.decode(line.subarray(SIG_PREFIX.length));
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    // Base64 is validated before decoding; the blob is a 4-byte key ID and at least one byte.
    const blob = decodeBase64(b64);
    if (blob === null || !isValidKeyName(name) || b64 === '' || blob.length < 5) throw malformedNote();
    if (++count > MAX_SIGNATURE_LINES) throw malformedNote();
    yield { name, keyId: readU32be(blob, 0), base64: b64, sig: blob.subarray(4), raw: rest };
  }
}

/** Parses a note's syntax without verifying anything. Throws NoteError('malformed'). */
export function parseNote(input: Uint8Array | string): ParsedNote {
  const msg = toBytes(input);
  let textBytes: Uint8Array = new Uint8Array();
  const signatures: SignatureLine[] = [];
  for (const { raw: _raw, ...line } of scanNote(msg, (t) => (textBytes = t))) signatures.push(line);
  return { text: decoder.decode(textBytes), textBytes, signatures };
}

/** A set of trusted verifiers, looked up by (name, key ID). */
export class VerifierSet {
  private readonly byKey = new Map<string, Verifier[]>();

  constructor(verifiers: Iterable<Verifier> = []) {
    for (const v of verifiers) this.add(v);
  }

  add(v: Verifier): void {
    const k = keyLabel(v.name, v.keyId);
    const list = this.byKey.get(k);
    if (list) list.push(v);
    else this.byKey.set(k, [v]);
  }

  /** undefined when unknown; throws for an ambiguous (duplicated) key, as Go does when it is used. */
  lookup(name: string, keyId: number): Verifier | undefined {
    const list = this.byKey.get(keyLabel(name, keyId));
    if (!list) return undefined;
    if (list.length > 1) throw new NoteError('ambiguous-key', `ambiguous key ${keyLabel(name, keyId)}`);
    return list[0];
  }

  get size(): number {
    return this.byKey.size;
  }
}

/**
 * Opens a signed note exactly as Go's note.Open:
 * - unknown (name, key ID) lines are ignored and reported as unverified (exact duplicates dropped);
 * - a known key whose signature fails rejects the whole note;
 * - repeated signatures by one known key are skipped after the first;
 * - no verified signature rejects the note; more than 100 lines is malformed.
 */
export interface OpenOptions {
  /**
   * Also verify repeated lines of an already-verified key and reject the note if one fails.
   * Go skips them; tlog-witness (main branch) says a witness MUST answer 403 when any line whose
   * name and key ID match a trusted key fails to verify.
   */
  verifyRepeatedKnown?: boolean;
}

export function openNote(input: Uint8Array | string, verifiers: VerifierSet | Iterable<Verifier>, opts: OpenOptions = {}): OpenedNote {
  const known = verifiers instanceof VerifierSet ? verifiers : new VerifierSet(verifiers);
  const msg = toBytes(input);
  let textBytes: Uint8Array = new Uint8Array();
  const signatures: SignatureLine[] = [];
  const verified: SignatureLine[] = [];
  const unverified: SignatureLine[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  const seenVerified = new Set<string>();
  for (const { raw, ...line } of scanNote(msg, (t) => (textBytes = t))) {
    signatures.push(line);
    const v = known.lookup(line.name, line.keyId);
    if (!v) {
      if (!seenUnverified.has(raw)) {
        seenUnverified.add(raw);
        unverified.push(line);
      }
      continue;
    }
    const label = keyLabel(line.name, line.keyId);
    if (seen.has(label)) {
      // An identical repeat of a line already verified has the same verdict.
      if (seenVerified.has(raw)) continue;
      seenVerified.add(raw);
      if (opts.verifyRepeatedKnown && !v.verify(textBytes, line.sig)) throw new NoteError('invalid-signature', MESSAGES.invalidSignature(label));
      continue;
    }
    seen.add(label);
    seenVerified.add(raw);
    if (!v.verify(textBytes, line.sig)) throw new NoteError('invalid-signature', MESSAGES.invalidSignature(label));
    verified.push(line);
  }
  if (verified.length === 0) throw new NoteError('unverified', 'note has no verifiable signatures');
  return { text: decoder.decode(textBytes), textBytes, signatures, verified, unverified };
}

export function formatSignatureLine(name: string, keyId: number, sig: Uint8Array): string {
  return `\u2014 ${name} ${encodeBase64(concatBytes(u32be(keyId), sig))}\n`;
}

/**
 * Signs text as Go's note.Sign: the text, a blank line, the existing signatures not replaced by
 * a new signer (in the order given), then one new line per signer.
 */
export function signNote(text: string, signers: Signer[], existing: SignatureLine[] = []): string {
  if (!text.endsWith('\n')) throw malformedNote();
  const textBytes = utf8(text);
  if (!checkCharacters(textBytes)) throw malformedNote();
  const replaced = new Set(signers.map((s) => keyLabel(s.name, s.keyId)));
  let out = text + '\n';
  for (const s of existing) {
    if (!isValidKeyName(s.name)) throw malformedNote();
    if (replaced.has(keyLabel(s.name, s.keyId))) continue;
    const raw = decodeBase64(s.base64);
    if (raw === null || raw.length < 5 || readU32be(raw, 0) !== s.keyId >>> 0) throw malformedNote();
    out += `\u2014 ${s.name} ${s.base64}\n`;
  }
  for (const s of signers) {
    if (!isValidKeyName(s.name)) throw new Error(`invalid signer name ${JSON.stringify(s.name)}`);
    out += formatSignatureLine(s.name, s.keyId, s.sign(textBytes));
  }
  return out;
}

/** Signature lines produced by signers over text, without the text (what a witness returns). */
export function signatureLines(textBytes: Uint8Array, signers: Signer[]): string {
  return signers.map((s) => formatSignatureLine(s.name, s.keyId, s.sign(textBytes))).join('');
}
