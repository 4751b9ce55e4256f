// The witness cosigns a log-signed checkpoint only if gossip and split-view evidence can carry it
// (MAX_LOG_SIGNED_NOTE): a log padding both sides of a fork past those limits would otherwise
// keep its split view from ever being compared between witnesses or proven to clients.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, generateKey, cosigner, parseVkey, openNote } from '../../src/note/index.js';
import { logSignedNoteBytes, MAX_LOG_SIGNED_NOTE } from '../../src/checkpoint/signed.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { encodeEvidence, makeEvidence, verifyEvidence, MAX_EVIDENCE_BYTES } from '../../src/evidence/split-view.js';
import { parsePolicy } from '../../src/policy/parse.js';
import { verifyCosignedCheckpoint } from '../../src/policy/verify.js';
import { answerFor } from '../../src/http/status.js';
import { TestLog } from '../helpers/fork.js';

const enc = (s: string) => new TextEncoder().encode(s);

function witnessFor(log: TestLog) {
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  return new Witness({ store: new MemoryStore(), logs, cosigners: [cosigner(generateKey('witness.example/w1'))] });
}

/** An extension line that brings the log-signed note to exactly `bytes`. */
function padTo(log: TestLog, bytes: number): string[] {
  const probe = log.checkpoint(log.tree.size, ['x']);
  const opened = openNote(probe, [parseVkey(log.key.vkey)]);
  return ['x'.repeat(1 + bytes - logSignedNoteBytes(opened.textBytes, opened.verified))];
}

describe('the largest log-signed checkpoint a witness cosigns', () => {
  it('cosigns one of MAX_LOG_SIGNED_NOTE bytes and answers 413 one byte over', async () => {
    const log = new TestLog('example.com/padded').append(5);
    const w = witnessFor(log);
    const at = log.checkpoint(log.tree.size, padTo(log, MAX_LOG_SIGNED_NOTE));
    expect((await w.addCheckpoint(enc(formatAddCheckpointBody(0n, [], at)))).kind).toBe('cosigned');
    const over = log.checkpoint(log.tree.size, padTo(log, MAX_LOG_SIGNED_NOTE + 1));
    const r = await witnessFor(log).addCheckpoint(enc(formatAddCheckpointBody(0n, [], over)));
    expect(r).toMatchObject({ kind: 'rejected', code: 'body-too-large' });
    expect(answerFor(r).status).toBe(413);
    expect(answerFor(r).body).toMatch(/at most 16384/);
  });

  it('evidence of two forks at that size fits the evidence limit', () => {
    const log = new TestLog('example.com/padded-fork').append(8);
    const fork = log.fork(4n).append(4, 'fork');
    const keys = [parseVkey(log.key.vkey)];
    const side = (n: string) => ({ note: openNote(n, keys), checkpoint: parseCheckpoint(openNote(n, keys).text) });
    const ev = makeEvidence(side(log.checkpoint(8n, padTo(log, MAX_LOG_SIGNED_NOTE))), side(fork.checkpoint(8n, padTo(fork, MAX_LOG_SIGNED_NOTE))));
    expect(encodeEvidence(ev).length).toBeLessThanOrEqual(MAX_EVIDENCE_BYTES);
  });

  it('a client refuses a checkpoint whose split view is proven by evidence larger than gossip carries', () => {
    const log = new TestLog('example.com/padded-client').append(8);
    const fork = log.fork(4n).append(4, 'fork');
    const pad = ['x' + 'a'.repeat(40_000)];
    const a = log.checkpoint(8n, pad);
    const keys = [parseVkey(log.key.vkey)];
    const side = (n: string) => ({ note: openNote(n, keys), checkpoint: parseCheckpoint(openNote(n, keys).text) });
    const ev = makeEvidence(side(a), side(fork.checkpoint(8n, pad)));
    expect(verifyEvidence(ev, () => keys).ok).toBe(true);
    expect(encodeEvidence(ev).length).toBeGreaterThan(MAX_EVIDENCE_BYTES);
    const policy = parsePolicy(`log ${log.key.vkey}\nquorum none\n`);
    expect(verifyCosignedCheckpoint(a, policy, { knownEvidence: [encodeEvidence(ev)] })).toMatchObject({ ok: false, code: 'known-evidence' });
  });
});
