import type { Command } from 'commander';
import { HASH_SIZE, verifyConsistency, verifyInclusion } from '../merkle/index.js';
import { parseJsonLossless, toBigIntSize } from '../util/json.js';
import { BadInputError, RefusedError, UsageError } from './errors.js';
import { readInput } from './io.js';
import { GossipWitnessError, MESSAGES } from '../errors.js';

// `proof verify-consistency` / `proof verify-inclusion` read JSON in the transparency-dev/merkle
// test-vector shape. Exit 0 valid, 1 invalid (the proof does not verify, sizes out of order), 2 when
// the input cannot be read or does not parse (not a JSON object, a field missing or undecodable,
// a wrong hash length): the table is EXIT_CODES in ./errors.ts.
//
// Unlike the library's verifyConsistency (which follows Go and compares roots of any length
// when the sizes are equal), every hash here must be exactly 32 bytes.

/** The verdict on a parsed JSON input: valid, or invalid with a one-line reason. */
export type ProofVerdict = { valid: true } | { valid: false; reason: string; /** the input does not parse (a field missing or undecodable): exit 2, not 1 */ malformed?: true };

class Invalid extends GossipWitnessError {
  constructor(message: string, code: 'REFUSED' | 'BAD_INPUT' = 'REFUSED') {
    super({ code, message });
  }
}
/** A field that is missing or does not decode: unparsable input (exit 2). */
class Malformed extends Invalid {
  constructor(message: string) {
    super(message, 'BAD_INPUT');
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function hashField(obj: Record<string, unknown>, field: string): Uint8Array {
  return decodeHash(obj[field], field);
}

function decodeHash(v: unknown, field: string): Uint8Array {
  if (v === undefined) throw new Malformed(`${field}: missing`);
  if (typeof v !== 'string') throw new Malformed(`${field}: must be a base64 string`);
  if (!BASE64.test(v)) throw new Malformed(`${field}: not valid base64`);
  const b = new Uint8Array(Buffer.from(v, 'base64'));
  if (b.length !== HASH_SIZE) throw new Malformed(`${field}: ${b.length} bytes, want ${HASH_SIZE}`);
  return b;
}

function sizeField(obj: Record<string, unknown>, field: string): bigint {
  try {
    return toBigIntSize(obj[field], field);
  } catch (e) {
    throw new Malformed((e as Error).message);
  }
}

/** A missing proof is invalid; JSON null is the empty proof (Go decodes it to a nil slice). */
function proofField(obj: Record<string, unknown>): Uint8Array[] {
  const v = obj.proof;
  if (v === undefined) throw new Malformed('proof: missing');
  if (v === null) return [];
  if (!Array.isArray(v)) throw new Malformed('proof: not an array');
  return v.map((x, i) => decodeHash(x, `proof[${i}]`));
}

function verdict(check: () => void): ProofVerdict {
  try {
    check();
    return { valid: true };
  } catch (e) {
    if (e instanceof Malformed) return { valid: false, reason: e.message, malformed: true };
    if (e instanceof Invalid) return { valid: false, reason: e.message };
    throw e;
  }
}

/** Checks `{size1, size2, root1, root2, proof}`. */
export function checkConsistencyInput(obj: Record<string, unknown>): ProofVerdict {
  return verdict(() => {
    const size1 = sizeField(obj, 'size1');
    const size2 = sizeField(obj, 'size2');
    const root1 = hashField(obj, 'root1');
    const root2 = hashField(obj, 'root2');
    const proof = proofField(obj);
    if (size1 > size2) throw new Invalid(`size1 ${size1} is greater than size2 ${size2}`);
    if (size1 === 0n) throw new Invalid('consistency proof from the empty tree (size1 0) is meaningless');
    if (size1 === size2) {
      if (proof.length !== 0) throw new Invalid('sizes are equal but the proof is not empty');
      if (!verifyConsistency(size1, size2, root1, root2, proof)) throw new Invalid('sizes are equal but the roots differ');
      return;
    }
    if (!verifyConsistency(size1, size2, root1, root2, proof)) throw new Invalid(MESSAGES.consistencyFails());
  });
}

/** Checks `{leafIdx, treeSize, root, leafHash, proof}`. */
export function checkInclusionInput(obj: Record<string, unknown>): ProofVerdict {
  return verdict(() => {
    const index = sizeField(obj, 'leafIdx');
    const size = sizeField(obj, 'treeSize');
    const root = hashField(obj, 'root');
    const leafHash = hashField(obj, 'leafHash');
    const proof = proofField(obj);
    if (index >= size) throw new Invalid(`leafIdx ${index} is not below treeSize ${size}`);
    if (!verifyInclusion(index, size, leafHash, proof, root)) throw new Invalid(MESSAGES.inclusionFails());
  });
}

/** Reads the input and parses it as a JSON object; anything else is a usage error (exit 2). */
function readJsonObject(file: string | undefined): Record<string, unknown> {
  const raw = readInput(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new BadInputError(`${file ?? 'stdin'}: not valid UTF-8`);
  }
  let v: unknown;
  try {
    v = parseJsonLossless(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new BadInputError(`${file ?? 'stdin'}: not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadInputError(`${file ?? 'stdin'}: not a JSON object`);
  return v as Record<string, unknown>;
}

function report(v: ProofVerdict): void {
  if (!v.valid) throw v.malformed ? new BadInputError(`invalid: ${v.reason}`) : new RefusedError(`invalid: ${v.reason}`);
  process.stdout.write('valid\n');
}

export function registerProof(program: Command): void {
  const proof = program.command('proof').description('verify Merkle proofs (RFC 6962 / RFC 9162)');

  proof
    .command('verify-consistency')
    .description(
      'verify a consistency proof given as JSON {size1, size2, root1, root2, proof} (base64 hashes, ' +
        'sizes as numbers or decimal strings); prints "valid", exits 1 if invalid',
    )
    .argument('[file]', 'JSON file (stdin when absent or "-")')
    .action((file: string | undefined) => {
      report(checkConsistencyInput(readJsonObject(file)));
    });

  proof
    .command('verify-inclusion')
    .description(
      'verify an inclusion proof given as JSON {leafIdx, treeSize, root, leafHash, proof} (base64 ' +
        'hashes, sizes as numbers or decimal strings); prints "valid", exits 1 if invalid',
    )
    .argument('[file]', 'JSON file (stdin when absent or "-")')
    .action((file: string | undefined) => {
      report(checkInclusionInput(readJsonObject(file)));
    });
}
