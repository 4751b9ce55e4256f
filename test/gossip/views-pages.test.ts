// The `views` catch-up carries every cosignature a node holds, ML-DSA-44 lines (≈ 3.3 KB each)
// included: a text whose lines exceed one message (16 KiB) is answered as several messages ("pages"),
// each a log-signed note with some of the cosignatures, each accepted by a peer like gossip.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { keyLabel, parseVkey } from '../../src/note/index.js';
import { generateMlDsa44Key } from '../../src/note/mldsa-keys.js';
import { VerifierSet } from '../../src/note/note.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { formatCheckpointMessage, formatCheckpointPages, MAX_CHECKPOINT_MESSAGE, parseCheckpointMessage, VerifiedLines } from '../../src/gossip/wire.js';
import { LogView } from '../../src/gossip/view.js';
import { viewsNotes } from '../../src/gossip/sync-service.js';

describe('views catch-up pages', () => {
  it('every ML-DSA-44 line of a text travels, in messages a peer accepts; the first is the message sent before', { timeout: 60_000 }, async () => {
    const log = new TestLog('example.com/views-pages').append(6);
    const keys = Array.from({ length: 8 }, (_, i) => generateMlDsa44Key(`pq${i}.example`));
    const witnessKeys = new VerifierSet();
    for (const k of keys) witnessKeys.add(parseVkey(k.vkey));
    const logKeys = new VerifierSet();
    logKeys.add(parseVkey(log.key.vkey));
    const trust = { logKeys: (o: string) => (o === log.origin ? logKeys : undefined), witnessKeys };
    const note = log.checkpoint();
    const cp = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
    let lines = '';
    for (const k of keys) lines += await k.subtreeLine({ origin: log.origin, start: 0n, end: cp.size, hash: cp.root }, 1_900_000_000n);
    // The node holds all eight (verified as they arrived); together they exceed one message.
    const view = new LogView(log.origin);
    for (let i = 0; i < keys.length; i += 2) {
      const part = lines.split('\n').slice(i, i + 2).join('\n') + '\n';
      const m = parseCheckpointMessage(new TextEncoder().encode(note + part), trust, new VerifiedLines());
      expect(m.ok).toBe(true);
      if (m.ok) view.observe(m.message, Date.now());
    }
    const entry = view.head()!;
    expect(entry.cosignatures.size).toBe(8);
    const all = new Set(keys.map((k) => keyLabel(k.name, parseVkey(k.vkey).keyId)));

    const pages = formatCheckpointPages(entry.logNote, entry.cosignatures.values());
    expect(pages.length).toBeGreaterThan(1);
    expect(new TextDecoder().decode(pages[0])).toBe(new TextDecoder().decode(formatCheckpointMessage(entry.logNote, entry.cosignatures.values())));
    const got = new Set<string>();
    for (const p of pages) {
      expect(p.length).toBeLessThanOrEqual(MAX_CHECKPOINT_MESSAGE);
      const m = parseCheckpointMessage(p, trust, new VerifiedLines()); // a peer verifies each page
      expect(m.ok).toBe(true);
      if (m.ok) for (const c of m.message.cosignatures) got.add(keyLabel(c.name, c.keyId));
    }
    expect(got).toEqual(all);

    // The views answer: first the first page of every entry, then the others; a peer that takes
    // them in (as requestViews does) ends with all eight lines.
    const notes = viewsNotes(new Map([[log.origin, view]]), [log.origin], new Set());
    expect(notes).toHaveLength(pages.length);
    const peer = new LogView(log.origin);
    for (const n of notes) {
      const m = parseCheckpointMessage(new TextEncoder().encode(n), trust, new VerifiedLines());
      if (m.ok) peer.observe(m.message, Date.now());
    }
    expect(new Set(peer.head()!.cosignatures.keys())).toEqual(all);
    // An origin named again and again is answered once (a request may name up to 4,096).
    expect(viewsNotes(new Map([[log.origin, view]]), Array(4000).fill(log.origin), new Set())).toEqual(notes);
  });

  it('a text whose lines fit one message is still one message', () => {
    const log = new TestLog('example.com/views-one').append(3);
    const logKeys = new VerifierSet();
    logKeys.add(parseVkey(log.key.vkey));
    const m = parseCheckpointMessage(new TextEncoder().encode(log.checkpoint()), { logKeys: () => logKeys, witnessKeys: new VerifierSet() });
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(formatCheckpointPages(m.message.logNote, [])).toHaveLength(1);
  });
});
