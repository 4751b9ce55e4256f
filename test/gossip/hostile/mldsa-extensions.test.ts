// an ML-DSA-44 (0x06) log signature signs only (origin, size, root): extension lines are
// not covered. The witness core refuses to cosign such text (witness.ts:322), but gossip takes any
// such variant as a new, log-signed checkpoint: anyone can mint unlimited texts "signed" by the
// log, which every node verifies again (VerifiedLines is keyed by text hash), accepts as 'new',
// forwards to its peers, and keeps in the 32-entry view, evicting genuine checkpoints.
import { afterEach, expect, it } from 'vitest';
import { Net, waitFor } from '../helpers.js';
import { generateMlDsa44Key } from '../../../src/note/mldsa-keys.js';
import { signNote } from '../../../src/note/note.js';
import { formatCheckpoint } from '../../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../../src/merkle/memory-tree.js';

let net: Net | undefined;
afterEach(async () => { await net?.stop(); net = undefined; });

it('gossip never takes in (nor forwards) extension lines that no log signature covers', async () => {
  const origin = 'example.com/audit-mldsa';
  const key = generateMlDsa44Key(origin);
  const tree = new MemoryTree();
  for (let i = 0; i < 5; i++) tree.append(new TextEncoder().encode(`leaf ${i}`));
  const text = formatCheckpoint({ origin, size: 5n, root: tree.root(5n), extensions: [] });
  const genuine = signNote(text, [key.logSigner()]);
  net = await Net.start(1, { logs: [{ origin, vkey: key.vkey }], version: () => 2 });
  const topics = (net.nodes[0].node.gossip as never as { g: { topics: { onExchangeCheckpoint(n: Uint8Array, f: string): string } } }).g.topics;
  expect(topics.onExchangeCheckpoint(new TextEncoder().encode(genuine), 'peer')).toBe('new');
  // Variants: the same signature line under text with an extension line the log never signed.
  const [body, sigs] = genuine.split('\n\n');
  const verdicts: string[] = [];
  for (let i = 0; i < 40; i++) verdicts.push(topics.onExchangeCheckpoint(new TextEncoder().encode(`${body}\nattacker-extension ${i}\n\n${sigs}`), 'peer'));
  const view = net.nodes[0].node.gossip!.viewOf(origin)!;
  // The genuine checkpoint must still be in the view, and no variant taken in as new (and forwarded).
  expect(view.all().some((e) => e.logNote.text === text)).toBe(true);
  expect(verdicts.filter((v) => v === 'new')).toEqual([]);
});
