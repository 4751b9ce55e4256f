// ML-DSA-44 (0x06) checkpoint signatures verified off the event loop: the same rule as
// src/note/sigtypes/mldsa44.ts verifyCheckpointSignature (start 0, end = size, the timestamp
// rules, the cosigned_message struct), with mlDsa44().verifyAsync (node:crypto on the libuv pool,
// or noble on the worker pool), because noble verifies in about 2.4 ms on Node 20.
import { mlDsa44 } from '../crypto/mldsa.js';
import type { Verifier } from '../note/keys.js';
import { MLDSA44, checkpointSubtree, cosignedMessage, subtreeSignatureProblem, TIMESTAMPED_MLDSA44_SIZE } from '../note/sigtypes/mldsa44.js';
import { readU64be } from '../util/bytes.js';

/** Verifies a 0x06 note signature (sig = the bytes after the key ID) over checkpoint text by v. Never rejects. */
export async function verifyMlDsa44CheckpointAsync(v: Verifier, text: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (v.type !== MLDSA44 || sig.length !== TIMESTAMPED_MLDSA44_SIZE) return false;
  const s = checkpointSubtree(text);
  const ts = readU64be(sig, 0);
  if (s === null || subtreeSignatureProblem(ts, s.start, s.end) !== null) return false;
  let msg: Uint8Array;
  try {
    msg = cosignedMessage(v.name, ts, s);
  } catch {
    return false;
  }
  try {
    return await mlDsa44().verifyAsync(v.key, msg, sig.subarray(8));
  } catch {
    return false;
  }
}
