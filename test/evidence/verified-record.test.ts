// The store's evidence write takes only a VerifiedRecord, made from what verifySplitView returns.
import { describe, it, expect } from 'vitest';
import { openNote } from '../../src/note/note.js';
import { parseVkey } from '../../src/note/keys.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { evidenceRecord, makeEvidence, verifySplitView, encodeEvidence, evidenceId, type VerifiedEvidence } from '../../src/evidence/split-view.js';
import type { StoredEvidence, VerifiedRecord, WitnessStore } from '../../src/witness/store.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TestLog } from '../helpers/fork.js';

function forkEvidence() {
  const log = new TestLog('example.com/verified-record').append(4);
  const other = log.fork(2n).append(2, 'b');
  const open = (l: TestLog) => {
    const note = openNote(l.checkpoint(), [parseVkey(log.key.vkey)]);
    return { note, checkpoint: parseCheckpoint(note.text) };
  };
  return { log, evidence: makeEvidence(open(log), open(other)) };
}

describe('VerifiedRecord', () => {
  it('only verified evidence becomes a record the store accepts; a forged signature does not verify', async () => {
    const { log, evidence } = forkEvidence();
    const v = verifySplitView(evidence, (o) => (o === log.origin ? [parseVkey(log.key.vkey)] : undefined));
    expect(v.ok).toBe(true);
    const verified = (v as { ok: true; evidence: VerifiedEvidence }).evidence;
    const record = evidenceRecord(verified, 7);
    expect(record).toEqual({ id: evidenceId(encodeEvidence(evidence)), origin: log.origin, receivedAt: 7, bytes: encodeEvidence(evidence) });
    const store: WitnessStore = new MemoryStore();
    expect(await store.addEvidence(record)).toBe(true);
    expect((await store.getEvidence(record.id))?.bytes).toEqual(record.bytes);

    // Another log key: not verified, so no record can be made from it.
    const unknown = verifySplitView(evidence, () => [parseVkey(new TestLog(log.origin).key.vkey)]);
    expect(unknown.ok).toBe(false);

    const plain: StoredEvidence = { id: 'x', origin: log.origin, receivedAt: 1, bytes: new Uint8Array([1]) };
    // @ts-expect-error a record not made from verified evidence is refused by the type checker
    const refused: VerifiedRecord = plain;
    expect(refused).toBe(plain);
    await store.close();
  });
});
