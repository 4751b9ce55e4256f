// Parsing the tlog-witness sign-subtree request body: what is a 400, and what is left to the caller.
import { describe, expect, it } from 'vitest';
import { MemoryTree } from '../../src/merkle/index.js';
import { subtreeConsistencyProof, verifySubtreeConsistency } from '../../src/merkle/subtree.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { signNote } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { RequestError } from '../../src/witness/request.js';
import { formatSignSubtreeBody, parseSignSubtreeBody } from '../../src/witness/subtree-request.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const tree = new MemoryTree(Array.from({ length: 14 }, (_, i) => Uint8Array.of(i)));
const witness = mlDsa44KeyFromSeed('witness.example/w1', new Uint8Array(32).fill(1));
const text = formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 14n, root: tree.root() });
const note = signNote(text, [witness.cosigner(() => 1700000000n)]);
const hash = tree.subtreeHash(8n, 13n);
const proof = subtreeConsistencyProof(8n, 13n, 14n, tree.hasher);

describe('parseSignSubtreeBody', () => {
  it('parses the spec-shaped request (subtree 8 13, four proof lines) and the proof verifies', () => {
    const body = formatSignSubtreeBody(8n, 13n, hash, proof, note);
    expect(body.split('\n').slice(0, 7).map((l) => l.slice(0, 8))).toEqual(['subtree ', ...Array(5).fill(expect.any(String)), '']);
    const r = parseSignSubtreeBody(utf8(body));
    expect([r.start, r.end]).toEqual([8n, 13n]);
    expect(r.proof).toHaveLength(4);
    expect(r.checkpoint.size).toBe(14n);
    expect(new TextDecoder().decode(r.note)).toBe(note);
    expect(verifySubtreeConsistency(r.start, r.end, r.checkpoint.size, r.proof, r.hash, r.checkpoint.root)).toBe(true);
  });

  it('accepts zero proof lines (the subtree is the whole tree) and up to 63', () => {
    const full = formatSignSubtreeBody(0n, 14n, tree.root(), [], note);
    expect(parseSignSubtreeBody(utf8(full)).proof).toHaveLength(0);
    const many = formatSignSubtreeBody(8n, 13n, hash, Array(63).fill(hash), note);
    expect(parseSignSubtreeBody(utf8(many)).proof).toHaveLength(63); // syntactically fine; the proof check (422) is the caller's
  });

  const bad: Array<[string, string]> = [
    ['no blank line', `subtree 8 13\n${Buffer.from(hash).toString('base64')}\n`],
    ['wrong keyword', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace('subtree', 'subtrees')],
    ['leading zero', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace('subtree 8 13', 'subtree 08 13')],
    ['two spaces', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace('subtree 8 13', 'subtree 8  13')],
    ['negative', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace('subtree 8 13', 'subtree -8 13')],
    ['above 2^63 - 1', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace('subtree 8 13', 'subtree 0 9223372036854775808')],
    ['missing hash line', `subtree 8 13\n\n${note}`],
    ['hash not 32 bytes', formatSignSubtreeBody(8n, 13n, hash.subarray(1), proof, note)],
    ['proof line not base64', formatSignSubtreeBody(8n, 13n, hash, proof, note).replace(Buffer.from(proof[1]).toString('base64'), '!!!')],
    ['64 proof lines', formatSignSubtreeBody(8n, 13n, hash, Array(64).fill(hash), note)],
    ['not a subtree [7, 13)', formatSignSubtreeBody(7n, 13n, hash, proof, note)],
    ['empty interval [8, 8) (draft -03)', formatSignSubtreeBody(8n, 8n, hash, [], note)],
    ['end beyond the checkpoint size', formatSignSubtreeBody(8n, 16n, hash, proof, note)],
    ['checkpoint without signatures', formatSignSubtreeBody(8n, 13n, hash, proof, text)],
    ['checkpoint text malformed', formatSignSubtreeBody(8n, 13n, hash, proof, note.replace('\n14\n', '\n014\n'))],
  ];
  it.each(bad)('400: %s', (_name, body) => {
    expect(() => parseSignSubtreeBody(utf8(body))).toThrow(RequestError);
  });
});
