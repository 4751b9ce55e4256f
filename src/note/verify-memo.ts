// Signatures one node has already seen verify (issue 15: "each signature verified at most once per
// node"). Without it one log signature was checked by the feeder that fetched the checkpoint, again
// by the witness core it handed it to, again on every poll that fetched the same checkpoint, and
// again when a peer sent the text over gossip: 7.6 % of a gossip node's verifications were repeats.
//
// One memo per node (never shared between nodes: benchmark nodes in one process must not help
// each other). A hit requires the same key (its whole vkey: name, key ID, type and key material),
// the same signed text and the same signature bytes, framed unambiguously into one SHA-256; so a
// hit is exactly a repeat of a check that passed. Failures are not remembered.
import { cryptoBackend } from '../crypto/index.js';
import { u32be } from '../util/bytes.js';
import { BoundedSet } from '../util/bounded-set.js';
import type { Verifier } from './keys.js';

const SEP = Uint8Array.of(0);
const encoder = new TextEncoder();

/** Entries kept by default: at 200 signatures a second, about 40 s of them. */
export const VERIFY_MEMO_MAX = 8192;

export class VerifyMemo {
  private readonly seen: BoundedSet<string>;
  /** Checks answered from memory (tests and metrics). */
  hits = 0;

  constructor(max = VERIFY_MEMO_MAX) {
    this.seen = new BoundedSet(max);
  }

  /** The same verifier, answering a repeat of a passed check from memory. */
  wrap(v: Verifier): Verifier {
    if (memoized.get(v) === this) return v;
    const vkey = encoder.encode(v.vkey);
    const w: Verifier = {
      name: v.name,
      keyId: v.keyId,
      type: v.type,
      key: v.key,
      vkey: v.vkey,
      verify: (text, sig) => {
        // vkey has no NUL byte; the text's length delimits it from the signature.
        const k = Buffer.from(cryptoBackend().sha256Parts(vkey, SEP, u32be(text.length), text, sig)).toString('latin1');
        if (this.seen.has(k)) {
          this.hits++;
          return true;
        }
        if (!v.verify(text, sig)) return false;
        this.seen.add(k);
        return true;
      },
    };
    memoized.set(w, this);
    return w;
  }
}

const memoized = new WeakMap<Verifier, VerifyMemo>();
