// k-of-n verification of a cosigned checkpoint against a policy (c2sp.org/tlog-policy semantics).
//
// 1. The note must parse, and a signature by a policy log key must verify. A line carrying a log
//    key's name and key ID that fails to verify rejects the checkpoint (as Go's note.Open does).
// 2. Only then is the text parsed as a checkpoint, and its origin must be that log's origin.
// 3. Witness lines are checked one witness at a time. A witness counts once however many lines it
//    has; a cosignature that does not verify counts as absent (it does not reject the checkpoint);
//    with a freshness limit, a cosignature that is too old or in the future counts as absent too.
//    Witness keys may be Ed25519 (cosignature/v1, 0x04) or ML-DSA-44 (subtree/v1, 0x06); both
//    carry a u64 timestamp first. Timestamp 0 (legal for 0x06, which MTC and sign-subtree use)
//    claims no time: with a freshness limit it never counts ('undated'); without one it counts.
// 4. Groups are evaluated bottom-up (each refers only to earlier names); verification stops as
//    soon as the quorum is decided either way, unless `exhaustive` is set.
//
// Pure: no file or network access, no Node-only module (this runs in browsers).
import { MAX_SIGNATURE_LINES, parseNote, type ParsedNote, type SignatureLine, VerifierSet } from '../note/note.js';
import { NoteError } from '../note/errors.js';
import { schemeFor } from '../note/sigtypes/registry.js';
import { extensionsAuthenticated } from '../checkpoint/signed.js';
import { COSIGNATURE_V1 } from '../note/sigtypes/cosignature.js';
import { parseCheckpoint, CheckpointError, type Checkpoint } from '../checkpoint/checkpoint.js';
import { utf8 } from '../util/bytes.js';
import { cosignatureLineTimestamp, formatKeyId } from '../note/keys.js';
import { decodeEvidence, MAX_HELD_EVIDENCE_BYTES, verifyEvidence, type Evidence } from '../witness/evidence.js';
import { cosignatureKeyId, type Policy, type PolicyLog, type PolicyNode } from './parse.js';
import { MESSAGES } from '../errors.js';

export type VerifyErrorCode =
  /** The note or the checkpoint text is malformed (including more than 100 signature lines). */
  | 'malformed'
  /** No valid signature by a policy log key, or a log key's signature line fails to verify. */
  | 'log-signature'
  /** A log key signed it, but the checkpoint origin is not that log's origin. */
  | 'origin'
  /** Proven split-view evidence is known for this origin. */
  | 'known-evidence'
  /** Not enough valid cosignatures for the quorum. */
  | 'quorum'
  /** The quorum is met only if cosignatures that are too old, in the future or undated (timestamp 0) are counted. */
  | 'stale';

export type WitnessStatus =
  /** A valid cosignature (fresh, when a freshness limit is set): counts. */
  | 'verified'
  /** Valid but older than maxAge (+ skew): counts as absent. */
  | 'stale'
  /** Valid but dated after now + skew: counts as absent. */
  | 'future'
  /**
   * Valid but with timestamp 0 (no time claimed; ML-DSA-44 subtree/v1 allows it), while a
   * freshness limit (maxAge) is set: counts as absent. Without maxAge such a cosignature is 'verified'.
   */
  | 'undated'
  /** Lines with this witness's key name and key ID, none of which verifies: counts as absent. */
  | 'invalid'
  /** No line for this witness. */
  | 'absent'
  /** Has lines, but not checked: the quorum was decided without it. */
  | 'unchecked';

export interface WitnessResult {
  readonly name: string;
  readonly status: WitnessStatus;
  /** Signature lines attributed to this witness. */
  readonly lines: number;
  /** Timestamp (POSIX seconds; 0 = none claimed) of the cosignature that decided the status, when one verified. */
  readonly timestamp?: bigint;
  /** Key name and key ID of that line ("name+hex8"). */
  readonly key?: string;
}

export interface GroupResult {
  readonly name: string;
  readonly k: number;
  readonly n: number;
  /** true or false once decided; null when verification stopped before it was decided. */
  readonly satisfied: boolean | null;
  /** Members known to be satisfied. */
  readonly satisfiedMembers: readonly string[];
}

export interface PolicyVerification {
  readonly ok: boolean;
  /** Set when ok is false. */
  readonly code?: VerifyErrorCode;
  /** One human-readable sentence (or a few) explaining the verdict. */
  readonly reason: string;
  readonly logVerified: boolean;
  /** The log whose signature verified (when one did). */
  readonly log?: { readonly vkey: string; readonly origin: string; readonly line: number };
  /** Parsed after the log signature verified. */
  readonly checkpoint?: Checkpoint;
  /**
   * Whether the log signature that verified covers the checkpoint's extension lines (true when
   * there are none). An ML-DSA-44 (0x06) or RFC 6962 (0x05) log signature signs a fixed struct
   * (origin, size, root), not the text: anyone can change the extension lines under it, so do
   * not act on them when this is false.
   */
  readonly extensionsAuthenticated?: boolean;
  /** One entry per policy witness, in policy order. */
  readonly witnesses: readonly WitnessResult[];
  /** Names of the witnesses whose cosignature counted. */
  readonly cosigners: readonly string[];
  /** One entry per group, in policy order. */
  readonly groups: readonly GroupResult[];
  readonly quorum: { readonly name: string; readonly satisfied: boolean | null };
  /** Signature lines from keys the policy does not know (ignored). */
  readonly ignoredLines: number;
}

export interface VerifyOptions {
  /**
   * Maximum cosignature age in seconds. Off by default. When set, a cosignature with timestamp 0
   * (no time claimed) never counts: it says nothing about when the witness saw the checkpoint.
   */
  readonly maxAge?: number;
  /** Clock skew allowance in seconds, for maxAge and for the future check (default 60). */
  readonly clockSkew?: number;
  /** The current time in POSIX seconds (default: Date.now()). Only used with maxAge. */
  readonly now?: () => number | bigint;
  /**
   * Refuse an origin for which proven split-view evidence is known: a predicate on the origin,
   * or evidence objects / encoded evidence, each of which counts only if it verifies against the
   * policy's own log keys for that origin.
   */
  readonly knownEvidence?: ((origin: string) => boolean) | readonly (Evidence | Uint8Array)[];
  /** Check every witness even after the quorum is decided (a full report; slower). */
  readonly exhaustive?: boolean;
}

/** Three-valued: true, false, or undecided. */
type Tri = boolean | null;

interface WitnessState {
  lines: SignatureLine[];
  status: WitnessStatus;
  timestamp?: bigint;
  key?: string;
}

const DEFAULT_SKEW = 60;
/** cosignature/v1 signature bytes: u64 timestamp || 64-byte Ed25519 signature. */
const COSIGNATURE_V1_SIG_SIZE = 72;

function fail(
  code: VerifyErrorCode,
  reason: string,
  policy: Policy,
  extra: Partial<Omit<PolicyVerification, 'ok' | 'code' | 'reason'>> = {},
): PolicyVerification {
  return {
    ok: false,
    code,
    reason,
    logVerified: false,
    witnesses: policy.witnesses.map((w) => ({ name: w.name, status: 'unchecked' as const, lines: 0 })),
    cosigners: [],
    groups: policy.groups.map((g) => ({ name: g.name, k: g.k, n: g.nodes.length, satisfied: null, satisfiedMembers: [] })),
    quorum: { name: policy.quorumName, satisfied: null },
    ignoredLines: 0,
    ...extra,
  };
}

/** Why a note failed to parse, in words (parseNote only says "malformed note"). */
function diagnoseMalformed(input: Uint8Array): string {
  let split = -1;
  for (let i = input.length - 2; i >= 0; i--) {
    if (input[i] === 0x0a && input[i + 1] === 0x0a) {
      split = i;
      break;
    }
  }
  if (split < 0) return `${MESSAGES.malformedNote()}: no blank line between the text and the signatures`;
  let count = 0;
  for (let i = split + 2; i < input.length; i++) if (input[i] === 0x0a) count++;
  if (count > MAX_SIGNATURE_LINES) return `${MESSAGES.malformedNote()}: ${count} signature lines; at most ${MAX_SIGNATURE_LINES} are accepted`;
  return `${MESSAGES.malformedNote()} (bad character, signature line or base64)`;
}

function nowSeconds(opts: VerifyOptions): bigint {
  const t = opts.now ? opts.now() : Date.now() / 1000;
  return typeof t === 'bigint' ? t : BigInt(Math.floor(t));
}

function checkOptions(opts: VerifyOptions): void {
  for (const k of ['maxAge', 'clockSkew'] as const) {
    const v = opts[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new RangeError(`${k} must be a non-negative number of seconds`);
  }
}

/** Whether proven evidence is known for this origin. */
function evidenceKnown(policy: Policy, origin: string, known: NonNullable<VerifyOptions['knownEvidence']>): boolean {
  if (typeof known === 'function') return known(origin);
  const keys = policy.logsForOrigin(origin).map((l) => l.verifier);
  for (const item of known) {
    let e: Evidence;
    try {
      // Not the gossip limit: a log may pad both forks beyond it to keep its split view out of evidence.
      e = item instanceof Uint8Array ? decodeEvidence(item, MAX_HELD_EVIDENCE_BYTES) : item;
    } catch {
      continue;
    }
    if (e.origin !== origin) continue;
    if (verifyEvidence(e, (o) => (o === origin ? keys : undefined)).ok) return true;
  }
  return false;
}

/**
 * Verifies a cosigned checkpoint note against a policy. Never throws on bad input: the result
 * says what was wrong (throws only for invalid options).
 */
export function verifyCosignedCheckpoint(note: string | Uint8Array, policy: Policy, opts: VerifyOptions = {}): PolicyVerification {
  checkOptions(opts);
  const input = typeof note === 'string' ? utf8(note) : note;

  // 1. Syntax.
  let parsed: ParsedNote;
  try {
    parsed = parseNote(input);
  } catch (e) {
    if (e instanceof NoteError) return fail('malformed', diagnoseMalformed(input), policy);
    throw e;
  }

  // 2. The log's signature. Each known (name, key ID) is checked once, as in note.Open.
  const logLines = new Set<SignatureLine>();
  const checkedLabels = new Set<string>();
  const verifiedLogs: PolicyLog[] = [];
  for (const line of parsed.signatures) {
    const candidates = policy.logsForLine(line.name, line.keyId);
    if (candidates.length === 0) continue;
    logLines.add(line);
    const label = `${line.name}+${formatKeyId(line.keyId)}`;
    if (checkedLabels.has(label)) continue;
    checkedLabels.add(label);
    const log = policy.logs[candidates[0]];
    if (!log.verifier.verify(parsed.textBytes, line.sig)) {
      return fail('log-signature', MESSAGES.logSignatureFails(label), policy);
    }
    for (const i of candidates) verifiedLogs.push(policy.logs[i]);
  }
  if (verifiedLogs.length === 0) {
    const names = [...new Set(parsed.signatures.map((s) => s.name))];
    return fail(
      'log-signature',
      `no signature by a log key of the policy (the note is signed by ${names.map((n) => JSON.stringify(n)).join(', ')}; the policy's logs are ${policy.logs.map((l) => JSON.stringify(l.verifier.name)).join(', ') || 'none'})`,
      policy,
    );
  }

  // 3. Only now parse the text as a checkpoint, and match the origin.
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parsed.text);
  } catch (e) {
    if (e instanceof CheckpointError) return fail('malformed', MESSAGES.malformedCheckpoint(e.message), policy, { logVerified: true });
    throw e;
  }
  const log = verifiedLogs.find((l) => l.origin === checkpoint.origin);
  if (!log) {
    const l = verifiedLogs[0];
    const hint = l.explicitOrigin ? '' : ' (if the log\'s origin differs from its key name, add an "origin" line after its "log" line)';
    return fail(
      'origin',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the origin of log key ${l.verifier.name}+${formatKeyId(l.verifier.keyId)}, which is ${JSON.stringify(l.origin)}${hint}`,
      policy,
      { logVerified: true, checkpoint },
    );
  }
  const logInfo = { vkey: log.vkey, origin: log.origin, line: log.line };
  if (opts.knownEvidence && evidenceKnown(policy, checkpoint.origin, opts.knownEvidence)) {
    return fail('known-evidence', MESSAGES.splitViewKnown(checkpoint.origin), policy, {
      logVerified: true,
      log: logInfo,
      checkpoint,
    });
  }

  // 4. Attribute witness lines (no cryptography yet).
  const states: WitnessState[] = policy.witnesses.map(() => ({ lines: [], status: 'absent' }));
  let ignored = 0;
  const anyName = policy.anyNameWitnesses;
  for (const line of parsed.signatures) {
    if (logLines.has(line)) continue;
    let matched = false;
    const w = policy.witnessForLine(line.name, line.keyId);
    if (w !== undefined) {
      states[w].lines.push(line);
      matched = true;
    }
    if (anyName.length > 0 && line.sig.length === COSIGNATURE_V1_SIG_SIZE) {
      for (const i of anyName) {
        if (cosignatureKeyId(line.name, policy.witnesses[i].publicKey) === line.keyId) {
          states[i].lines.push(line);
          matched = true;
        }
      }
    }
    if (!matched) ignored++;
  }
  for (const s of states) if (s.lines.length > 0) s.status = 'unchecked';

  const freshness = opts.maxAge !== undefined;
  const now = freshness ? nowSeconds(opts) : 0n;
  const skew = BigInt(Math.floor(opts.clockSkew ?? DEFAULT_SKEW));
  const maxAge = freshness ? BigInt(Math.floor(opts.maxAge!)) : 0n;
  const scheme = schemeFor(COSIGNATURE_V1)!;

  const checkWitness = (i: number): void => {
    const s = states[i];
    const w = policy.witnesses[i];
    // Newest first: with freshness, the newest valid cosignature decides.
    const type = w.verifier?.type ?? COSIGNATURE_V1;
    const when = (l: SignatureLine): bigint => cosignatureLineTimestamp(type, l.sig) ?? -1n;
    const lines = [...s.lines].sort((a, b) => {
      const ta = when(a);
      const tb = when(b);
      return ta > tb ? -1 : ta < tb ? 1 : 0;
    });
    let status: WitnessStatus = 'invalid';
    for (const line of lines) {
      const ok = w.verifier ? w.verifier.verify(parsed.textBytes, line.sig) : scheme.verify(w.publicKey, line.name, parsed.textBytes, line.sig);
      if (!ok) continue;
      const ts = when(line);
      if (ts < 0n) continue; // a verifying line always has a timestamp; never trust one that does not
      s.timestamp = ts;
      s.key = `${line.name}+${formatKeyId(line.keyId)}`;
      if (freshness && ts > now + skew) {
        status = 'future';
        continue;
      }
      if (freshness && ts === 0n) {
        // Sorted newest first: nothing dated is left to try.
        status = 'undated';
        break;
      }
      status = freshness && ts + maxAge + skew < now ? 'stale' : 'verified';
      break;
    }
    if (status === 'invalid' && s.timestamp === undefined) {
      s.key = `${lines[0].name}+${formatKeyId(lines[0].keyId)}`;
    }
    s.status = status;
  };

  // 5. Evaluate the quorum; verify witnesses until it is decided.
  const evaluate = (present: (s: WitnessState) => Tri): { groups: Tri[]; quorum: Tri } => {
    const values: Tri[] = [];
    const nodeValue = (n: PolicyNode): Tri => (n.kind === 'witness' ? present(states[n.index]) : values[n.index]);
    for (const g of policy.groups) {
      let yes = 0;
      let unknown = 0;
      for (const m of g.nodes) {
        const v = nodeValue(m);
        if (v === true) yes++;
        else if (v === null) unknown++;
      }
      values.push(yes >= g.k ? true : yes + unknown < g.k ? false : null);
    }
    return { groups: values, quorum: policy.quorum === null ? true : nodeValue(policy.quorum) };
  };
  const counts = (s: WitnessState): Tri => (s.status === 'verified' ? true : s.status === 'unchecked' ? null : false);

  const relevant = policy.quorumWitnesses().filter((i) => states[i].status === 'unchecked');
  let result = evaluate(counts);
  for (const i of relevant) {
    if (result.quorum !== null && !opts.exhaustive) break;
    checkWitness(i);
    result = evaluate(counts);
  }
  if (opts.exhaustive || (result.quorum === false && freshness)) {
    // A full report, or (on failure with a freshness limit) enough to tell "stale" from "quorum".
    for (let i = 0; i < states.length; i++) if (states[i].status === 'unchecked' && (opts.exhaustive || relevant.includes(i))) checkWitness(i);
    result = evaluate(counts);
  }

  const witnesses: WitnessResult[] = policy.witnesses.map((w, i) => ({
    name: w.name,
    status: states[i].status,
    lines: states[i].lines.length,
    ...(states[i].timestamp !== undefined ? { timestamp: states[i].timestamp } : {}),
    ...(states[i].key !== undefined ? { key: states[i].key } : {}),
  }));
  const cosigners = witnesses.filter((w) => w.status === 'verified').map((w) => w.name);
  const nodeName = (n: PolicyNode): string => (n.kind === 'witness' ? policy.witnesses[n.index].name : policy.groups[n.index].name);
  const nodeTri = (n: PolicyNode): Tri => (n.kind === 'witness' ? counts(states[n.index]) : result.groups[n.index]);
  const groups: GroupResult[] = policy.groups.map((g, i) => ({
    name: g.name,
    k: g.k,
    n: g.nodes.length,
    satisfied: result.groups[i],
    satisfiedMembers: g.nodes.filter((m) => nodeTri(m) === true).map(nodeName),
  }));
  const base = {
    logVerified: true,
    log: logInfo,
    checkpoint,
    extensionsAuthenticated: extensionsAuthenticated(checkpoint, [log.verifier], new VerifierSet([log.verifier])),
    witnesses,
    cosigners,
    groups,
    quorum: { name: policy.quorumName, satisfied: result.quorum },
    ignoredLines: ignored,
  };
  const where = `${checkpoint.origin} at size ${checkpoint.size}`;
  if (result.quorum === true) {
    const by = cosigners.length > 0 ? `cosigned by ${cosigners.join(', ')}` : 'no cosignatures required';
    return { ok: true, reason: `${where}: log signature verified; ${MESSAGES.quorumSatisfied(policy.quorumName, by)}`, ...base };
  }

  // 6. Explain the failure.
  const explain = explainFailure(policy, states, result.groups);
  if (freshness) {
    const lenient = evaluate((s) => (s.status === 'verified' || s.status === 'stale' || s.status === 'future' || s.status === 'undated' ? true : s.status === 'unchecked' ? null : false));
    if (lenient.quorum === true) {
      return { ok: false, code: 'stale', reason: `${where}: quorum ${policy.quorumName} is met only by counting cosignatures outside the freshness limit (max age ${opts.maxAge} s, skew ${skew} s${states.some((s) => s.status === 'undated') ? '; a timestamp of 0 claims no time' : ''}): ${explain}`, ...base };
    }
  }
  return { ok: false, code: 'quorum', reason: `${where}: ${MESSAGES.quorumNotSatisfied(policy.quorumName, explain)}`, ...base };
}

const STATUS_WORDS: Record<WitnessStatus, string> = {
  verified: 'verified',
  stale: 'too old',
  future: 'dated in the future',
  undated: 'timestamp 0: no time claimed, cannot meet max age',
  invalid: 'does not verify',
  absent: 'no cosignature',
  unchecked: 'not checked',
};

function explainFailure(policy: Policy, states: WitnessState[], groups: Tri[]): string {
  const counts = (s: WitnessState): Tri => (s.status === 'verified' ? true : s.status === 'unchecked' ? null : false);
  const describe = (n: PolicyNode, depth: number): string => {
    if (n.kind === 'witness') {
      const w = policy.witnesses[n.index];
      return `${w.name} (${STATUS_WORDS[states[n.index].status]})`;
    }
    const g = policy.groups[n.index];
    const members = g.nodes.map((m) => {
      if (m.kind === 'witness') return describe(m, depth + 1);
      const v = groups[m.index];
      const inner = policy.groups[m.index];
      if (v === true) return `${inner.name} (satisfied)`;
      return depth < 3 ? describe(m, depth + 1) : `${inner.name} (not satisfied)`;
    });
    const tri = g.nodes.map((m) => (m.kind === 'witness' ? counts(states[m.index]) : groups[m.index]));
    const yes = tri.filter((v) => v === true).length;
    const open = tri.filter((v) => v === null).length;
    const has = open > 0 ? `has ${yes}, and at most ${yes + open} with the ${open} not checked` : `has ${yes}`;
    return `group ${g.name} needs ${g.k} of ${g.nodes.length} and ${has} [${members.join('; ')}]`;
  };
  return policy.quorum === null ? 'no cosignatures required' : describe(policy.quorum, 0);
}
