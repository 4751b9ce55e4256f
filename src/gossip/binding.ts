// Peer bindings: a record signed by a witness's Ed25519 key that names the libp2p peer ID it runs
// under and a time. It is what earns a tracked witness's peer a reserved connection slot: without
// it, anyone forwarding X's public cosignatures could claim to be X.
//
// Signed message (raw Ed25519 over these bytes, with the witness key's seed):
//
//   "gossip-witness/peer-binding/v1" 0x00 <peer id, base58> 0x0a <unix seconds, decimal>
//
// The NUL byte keeps it from ever being a signed-note text (note texts have no control characters
// besides newline), and it does not start with "cosignature/v1\n", so a binding can never be taken
// for a note signature or a cosignature/v1, and neither can be taken for a binding.
//
// On the wire (sync request {"type":"binding"}): {"key":"NAME+HEX8","peer":ID,"time":"SECS","sig":B64},
// where NAME+HEX8 is the witness's cosignature/v1 key label as listed under `witnesses:`.
import { cryptoBackend } from '../crypto/index.js';
import { keyLabel } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { concatBytes, decodeBase64, encodeBase64, utf8 } from '../util/bytes.js';
import { COSIGNATURE_V1 } from '../note/sigtypes/cosignature.js';

export const BINDING_CONTEXT = 'gossip-witness/peer-binding/v1';
/** A binding dated further ahead than this is refused (clock skew allowance). */
export const BINDING_MAX_FUTURE_S = 600;
export const MAX_BINDINGS = 16;

export interface BindingRecord {
  readonly key: string;
  readonly peer: string;
  readonly time: bigint;
  readonly sig: Uint8Array;
}

/** What a node needs to sign its bindings: the witness key's name, seed and public key. */
export interface BindingKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The cosignature/v1 vkey (its label is what peers list under `witnesses:`). */
  readonly cosignatureVkey: string;
}

export function bindingMessage(peer: string, time: bigint): Uint8Array {
  return concatBytes(utf8(BINDING_CONTEXT), Uint8Array.of(0), utf8(`${peer}\n${time}`));
}

function labelOfVkey(vkey: string): string {
  const [name, hex] = vkey.split('+');
  return `${name}+${hex}`;
}

export function signBinding(key: BindingKey, peer: string, time: bigint): BindingRecord {
  return { key: labelOfVkey(key.cosignatureVkey), peer, time, sig: cryptoBackend().ed25519Sign(key.seed, bindingMessage(peer, time)) };
}

export type BindingVerdict = { ok: true; label: string } | { ok: false; reason: string };

/**
 * Checks a binding against the tracked witnesses: a known cosignature/v1 key, the peer ID of the
 * connection it came over, not dated in the future, and a valid signature.
 */
export function verifyBinding(r: BindingRecord, remotePeer: string, tracked: ReadonlyMap<string, Verifier>, nowS: bigint): BindingVerdict {
  const v = tracked.get(r.key);
  if (!v || v.type !== COSIGNATURE_V1) return { ok: false, reason: 'not a tracked witness key' };
  if (r.peer !== remotePeer) return { ok: false, reason: 'names another peer ID' };
  if (r.time > nowS + BigInt(BINDING_MAX_FUTURE_S)) return { ok: false, reason: 'dated in the future' };
  if (r.sig.length !== 64 || !cryptoBackend().ed25519Verify(v.key, bindingMessage(r.peer, r.time), r.sig)) return { ok: false, reason: 'bad signature' };
  return { ok: true, label: keyLabel(v.name, v.keyId) };
}

export function encodeBinding(r: BindingRecord): { key: string; peer: string; time: string; sig: string } {
  return { key: r.key, peer: r.peer, time: r.time.toString(), sig: encodeBase64(r.sig) };
}

export function decodeBinding(o: unknown): BindingRecord | null {
  if (typeof o !== 'object' || o === null) return null;
  const { key, peer, time, sig } = o as Record<string, unknown>;
  if (typeof key !== 'string' || key.length > 512 || typeof peer !== 'string' || peer.length > 128 || typeof time !== 'string' || !/^[0-9]{1,19}$/.test(time) || typeof sig !== 'string') return null;
  const s = decodeBase64(sig);
  if (s === null || s.length !== 64) return null;
  return { key, peer, time: BigInt(time), sig: s };
}
