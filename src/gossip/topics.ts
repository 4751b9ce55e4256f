// Topics and validation: what a peer sends (a version 1 gossipsub message, a version 2 exchange
// item, evidence on the evidence topic) is parsed and verified (wire.ts), given a verdict, and
// what verifies enters the view (view.ts), with what follows: same size with another root is
// evidence at once, another size a pair check (pair-checks.ts), a checkpoint ahead of this
// witness a poll through the feeders' pull path (advance.ts).
import { keyLabel, type SignatureLine } from '../note/note.js';
import { encodeEvidence, evidenceId, verifySplitView, type Evidence } from '../evidence/split-view.js';
import { CHECKPOINT_TOPIC, parseCheckpointMessage, parseEvidenceMessage, type CheckpointMessage, type Verdict } from './wire.js';
import { sameSizeEvidence, type ViewEntry } from './view.js';
import { EXCHANGE_PROTOCOL, refHexOf, type ItemVerdict } from './exchange.js';
import type { GossipContext } from './context.js';

/** The topic label of version 2's items in gossip_messages_total (docs/gossip.md, "Metrics"). */
export const EXCHANGE_CHECKPOINT_TOPIC = `${EXCHANGE_PROTOCOL}/checkpoint`;
export const EXCHANGE_COSIGNATURE_TOPIC = `${EXCHANGE_PROTOCOL}/cosignature`;

export class Topics {
  /** REF (hex) -> origin and text hash, for version 2 cosignatures. */
  private readonly refs = new Map<string, { origin: string; textHash: string }>();

  constructor(private readonly g: GossipContext) {}

  indexRef(e: ViewEntry): void {
    const ref = refHexOf(e.textHash);
    if (this.refs.has(ref)) return;
    this.refs.set(ref, { origin: e.origin, textHash: e.textHash });
    if (this.refs.size > 65_536) this.refs.delete(this.refs.keys().next().value!);
    // Cosignatures that came before the text (by any path: exchange, sync, our own witness) apply now.
    this.g.exchange()?.applyEarly(ref);
  }

  verdict(topic: string, v: Verdict, reason: string | undefined, from: string | undefined): Verdict {
    this.g.metrics.message(topic, v);
    this.g.emit({ type: 'verdict', topic, verdict: v, ...(reason ? { reason } : {}), ...(from ? { from } : {}) });
    if (v === 'reject') this.g.logger.debug({ topic, from, reason }, 'gossip message rejected');
    return v;
  }

  /** gossipsub validator for the checkpoint topic (version 1). */
  validateCheckpoint(data: Uint8Array, from?: string): Verdict {
    const r = parseCheckpointMessage(data, this.g.trust, this.g.verified);
    if (!r.ok) return this.verdict(CHECKPOINT_TOPIC, r.verdict, r.reason, from);
    const { news } = this.ingest(r.message, 'gossip');
    if (r.message.cosignatures.length === 0) return this.verdict(CHECKPOINT_TOPIC, 'ignore', 'no cosignature by a witness this node tracks', from);
    if (r.message.unknownLines > 0) return this.verdict(CHECKPOINT_TOPIC, 'ignore', 'carries lines by keys this node does not know (not forwarded)', from);
    return this.verdict(CHECKPOINT_TOPIC, news ? 'accept' : 'ignore', news ? undefined : 'nothing new', from);
  }

  /** A log-signed checkpoint from the exchange (version 2): verified like gossip; it carries no cosignatures. */
  onExchangeCheckpoint(note: Uint8Array, from: string): ItemVerdict {
    return this.count(EXCHANGE_CHECKPOINT_TOPIC, this.exchangeCheckpoint(note, from));
  }

  /** A cosignature from the exchange on a text this node holds: verified once, then merged and offered on. */
  onExchangeCosig(ref: string, line: SignatureLine, from: string): ItemVerdict | 'unknown-ref' {
    const v = this.exchangeCosig(ref, line, from);
    return v === 'unknown-ref' ? v : this.count(EXCHANGE_COSIGNATURE_TOPIC, v);
  }

  /** Version 2 items count in gossip_messages_total like version 1 messages: new is accept, dup ignore. */
  private count(topic: string, v: ItemVerdict): ItemVerdict {
    this.g.metrics.message(topic, v === 'new' ? 'accept' : v === 'reject' ? 'reject' : 'ignore');
    return v;
  }

  private exchangeCheckpoint(note: Uint8Array, from: string): ItemVerdict {
    const r = parseCheckpointMessage(note, this.g.trust, this.g.verified);
    if (!r.ok) return r.verdict;
    if (r.message.cosignatures.length > 0) return 'reject';
    const before = this.g.views.get(r.message.origin)?.get(r.message.textHash);
    if (before) {
      // Only what this node verified is ever forwarded: the text and the log's verified lines.
      this.g.publisher.offerText(before, from);
      return 'dup';
    }
    this.ingest(r.message, 'gossip', from);
    return 'new';
  }

  private exchangeCosig(ref: string, line: SignatureLine, from: string): ItemVerdict | 'unknown-ref' {
    const at = this.refs.get(ref);
    const entry = at ? this.g.views.get(at.origin)?.get(at.textHash) : undefined;
    if (!entry) return 'unknown-ref'; // not arrived yet (held back), or left the view
    const label = keyLabel(line.name, line.keyId);
    if (entry.cosignatures.has(label)) {
      this.g.publisher.offerCosig(entry, label, entry.cosignatures.get(label)!, from);
      return 'dup';
    }
    let v;
    try {
      v = this.g.trust.witnessKeys.lookup(line.name, line.keyId);
    } catch {
      return 'ignore';
    }
    if (!v) return 'ignore';
    if (!this.g.verified.verifyOnce(v, entry.textHash, entry.logNote.textBytes, line)) return 'reject';
    const res = this.g.view(entry.origin).observe({ origin: entry.origin, checkpoint: entry.checkpoint, textHash: entry.textHash, logNote: entry.logNote, cosignatures: [line] }, this.g.now(), false);
    if (res.added.length > 0) {
      this.g.emit({ type: 'checkpoint', origin: entry.origin, size: entry.checkpoint.size, textHash: entry.textHash, via: 'gossip', newText: false, added: [label], at: this.g.now() });
      this.g.publisher.offerCosig(entry, label, line, from);
    }
    return 'new';
  }

  /** Adds a verified message to the view and starts what follows from it. */
  ingest(m: CheckpointMessage, via: 'gossip' | 'sync', from?: string): { news: boolean } {
    const view = this.g.view(m.origin);
    const res = view.observe(m, this.g.now(), false);
    this.indexRef(res.entry);
    if (this.g.exchange()) {
      if (res.isNewText) this.g.publisher.offerText(res.entry, from);
      for (const line of res.added) this.g.publisher.offerCosig(res.entry, keyLabel(line.name, line.keyId), line, from);
    }
    if (res.isNewText || res.added.length > 0) {
      this.g.emit({ type: 'checkpoint', origin: m.origin, size: m.checkpoint.size, textHash: m.textHash, via, newText: res.isNewText, added: res.added.map((l) => keyLabel(l.name, l.keyId)), at: this.g.now() });
    }
    for (const c of res.conflicts) this.g.track(this.proven(sameSizeEvidence(res.entry, c), 'detected'));
    if (res.isNewText && !res.entry.own && res.conflicts.length === 0) this.g.checks.schedule(res.entry);
    if (res.isNewText) this.g.advancer.maybeAdvance(res.entry);
    return { news: res.isNewText || res.added.length > 0 };
  }

  /** Verifies evidence with this node's log keys; stores it through the witness core, gossips and alerts. True if it verified. */
  async proven(evidence: Evidence, via: 'detected' | 'gossip' | 'sync', bytes?: Uint8Array): Promise<boolean> {
    const v = verifySplitView(evidence, (o) => this.g.trust.logKeys(o));
    if (!v.ok) {
      this.g.logger.warn({ origin: evidence.origin, reason: v.reason }, 'evidence did not verify; dropped');
      return false;
    }
    const enc = bytes ?? encodeEvidence(evidence);
    const id = evidenceId(enc);
    const isNew = await this.g.opts.witness.storeEvidence(evidence.origin, v.evidence);
    if (isNew) this.g.metrics.evidence(via);
    this.g.emit({ type: 'evidence', origin: evidence.origin, id, via, isNew, at: this.g.now() });
    // The error-level alert (once per incident) is the node's, on the witness's evidence event.
    if (isNew) this.g.logger.info({ origin: evidence.origin, evidence: id, via, sizes: v.evidence.sizes.map(String) }, 'verified split-view evidence stored');
    if (!this.g.evidenceSeen.has(id) && !this.g.forksSeen.has(v.evidence.fork)) {
      this.g.evidenceSeen.add(id);
      this.g.forksSeen.add(v.evidence.fork);
      // Received evidence is forwarded by gossipsub itself (accept); only our own is published.
      if (via !== 'gossip') this.g.track(this.g.publisher.publish(this.g.evidenceTopic, enc, evidence.origin));
    }
    return true;
  }

  /** gossipsub validator for the evidence topic. */
  async validateEvidence(data: Uint8Array, from?: string): Promise<Verdict> {
    const r = parseEvidenceMessage(data, this.g.trust);
    if (!r.ok) return this.verdict(this.g.evidenceTopic, r.verdict, r.reason, from);
    const id = evidenceId(r.bytes);
    if (this.g.evidenceSeen.has(id)) return this.verdict(this.g.evidenceTopic, 'ignore', 'evidence already held', from);
    this.g.evidenceSeen.add(id);
    // One split view, many encodings (lines by unknown keys added, a and b swapped): forward one.
    if (this.g.forksSeen.has(r.fork)) return this.verdict(this.g.evidenceTopic, 'ignore', 'this split view is already held (another encoding)', from);
    this.g.forksSeen.add(r.fork);
    await this.proven(r.evidence, 'gossip', r.bytes);
    return this.verdict(this.g.evidenceTopic, 'accept', undefined, from);
  }
}
