// Publishing: what this node's own witness cosigned goes out at most once per log per checkpoint
// (version 1: one gossipsub message with every cosignature merged so far; version 2: the
// log-signed checkpoint and each cosignature as items of the exchange), and evidence found outside
// the gossip layer is published once, after verifying it here.
import { keyLabel, type SignatureLine } from '../note/note.js';
import { utf8 } from '../util/bytes.js';
import type { WitnessEvent } from '../witness/witness.js';
import type { LogState } from '../witness/store.js';
import { encodeEvidence, verifySplitView } from '../evidence/split-view.js';
import { CHECKPOINT_TOPIC, logSignedNote, parseCheckpointMessage } from './wire.js';
import { sameSizeEvidence, type ViewEntry } from './view.js';
import { EXCHANGE_PROTOCOL, type Item } from './exchange.js';
import type { GossipContext } from './context.js';

export class Publisher {
  private readonly published = new Map<string, Set<string>>();

  constructor(private readonly g: GossipContext) {}

  /** Feed every WitnessEvent of this node's witness here (the node does). */
  onWitnessEvent(e: WitnessEvent): void {
    if (this.g.stopped() || !this.g.host()) return;
    if (e.type === 'cosigned') {
      // Issue 15: "each signature verified at most once per node": the core verified this note's
      // log lines and made the rest; reading the state back must not verify them again.
      if (e.note !== undefined) {
        const logKeys = this.g.trust.logKeys(e.origin);
        // The same order as parseCheckpointMessage: a log key first, then a witness key.
        this.g.verified.addStoredByCore(utf8(e.note), (l) => logKeys?.lookup(l.name, l.keyId) ?? this.g.trust.witnessKeys.lookup(l.name, l.keyId));
      }
      this.g.track(this.publishOwn(e.origin));
    }
    // Evidence found outside the gossip layer (the witness core on a same-size push, a pull
    // feeder proving a suspect from tiles) is gossiped too, once, after verifying it here.
    if (e.type === 'evidence' && !this.g.evidenceSeen.has(e.id)) {
      const v = verifySplitView(e.evidence, (o) => this.g.trust.logKeys(o));
      if (!v.ok || this.g.forksSeen.has(v.evidence.fork)) return;
      this.g.evidenceSeen.add(e.id);
      this.g.forksSeen.add(v.evidence.fork);
      this.g.track(this.publish(this.g.evidenceTopic, encodeEvidence(e.evidence), e.origin));
    }
  }

  /** This node's own stored checkpoint into the view (and published, if asked). */
  observeOwnState(origin: string, s: LogState, publish: boolean): ViewEntry | undefined {
    const r = parseCheckpointMessage(utf8(s.cosigned), this.g.trust, this.g.verified);
    if (!r.ok) {
      this.g.logger.warn({ origin, reason: r.reason }, 'own stored checkpoint does not verify (keys changed?)');
      return undefined;
    }
    const res = this.g.view(origin).observe(r.message, this.g.now(), true);
    this.g.topics.indexRef(res.entry);
    this.g.emit({ type: 'checkpoint', origin, size: r.message.checkpoint.size, textHash: r.message.textHash, via: 'own', newText: res.isNewText, added: res.added.map((l) => keyLabel(l.name, l.keyId)), at: this.g.now() });
    for (const c of res.conflicts) this.g.track(this.g.topics.proven(sameSizeEvidence(res.entry, c), 'detected'));
    if (publish) this.publishEntry(res.entry);
    // Checks that were waiting for our own witness to catch up can run now.
    if (res.isNewText) this.g.checks.runPending(origin);
    return res.entry;
  }

  private async publishOwn(origin: string): Promise<void> {
    const s = await this.g.opts.store.getState(origin);
    if (!s || this.g.stopped()) return;
    this.observeOwnState(origin, s, true);
  }

  /** At most one message per log per checkpoint: its text, the log lines, every known cosignature. */
  private publishEntry(e: ViewEntry): void {
    let set = this.published.get(e.origin);
    if (!set) this.published.set(e.origin, (set = new Set()));
    if (set.has(e.textHash)) return;
    if (set.size >= 256) set.clear();
    set.add(e.textHash);
    if (this.g.exchange()) {
      // Version 2: the checkpoint once, then every cosignature held on it, each an item of its own.
      this.offerText(e);
      for (const [label, line] of e.cosignatures) this.offerCosig(e, label, line);
      this.g.metrics.published(EXCHANGE_PROTOCOL);
      this.g.emit({ type: 'published', topic: EXCHANGE_PROTOCOL, origin: e.origin });
      return;
    }
    const data = this.g.views.get(e.origin)!.message(e, this.g.ownLabels);
    this.g.track(this.publish(CHECKPOINT_TOPIC, data, e.origin));
  }

  /** Version 2: a verified log-signed checkpoint offered to the exchange (never to the peer it came from). */
  offerText(e: ViewEntry, from?: string): void {
    this.g.topics.indexRef(e);
    const item: Item = { kind: 'checkpoint', origin: e.origin, textHash: e.textHash, note: utf8(logSignedNote(e)) };
    this.g.exchange()?.offer(item, from);
  }

  /** Version 2: a verified cosignature offered to the exchange. */
  offerCosig(e: ViewEntry, label: string, line: SignatureLine, from?: string): void {
    this.g.exchange()?.offer({ kind: 'cosig', origin: e.origin, textHash: e.textHash, label, sig: line.sig }, from);
  }

  async publish(topic: string, data: Uint8Array, origin: string): Promise<void> {
    const host = this.g.host();
    if (!host || this.g.stopped()) return;
    await host.services.pubsub.publish(topic, data);
    this.g.metrics.published(topic);
    this.g.emit({ type: 'published', topic, origin });
  }
}
