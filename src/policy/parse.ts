// Cosigning policies: c2sp.org/tlog-policy (vkeys) and Sigsum policy files (hex keys), plus one
// extension, the `origin` line, for logs whose key name is not their checkpoint origin.
//
//   log <vkey> [<url>]                 tlog-policy: the key name must be the checkpoint origin
//   origin <origin text>               extension: the origin of the log defined on the line above
//   witness <name> <vkey> [<url>]
//   group <name> all|any|<k> <name>...
//   quorum <name>|none
//
// Sigsum dialect: `log <hex Ed25519 key> [<url>]` (origin sigsum.org/v1/tree/<hex SHA-256(key)>,
// note key name = origin) and `witness <name> <hex Ed25519 key> [<url>]` (cosignature/v1 lines
// are matched by key ID whatever key name they carry: Sigsum names are local labels).
//
// ML-DSA-44 (signature type 0x06): a witness vkey of type 0x06 verifies subtree/v1 cosignatures
// (start 0, end = size); a log vkey of type 0x06 verifies the log's own subtree/v1 signature.
// Sigsum hex keys are Ed25519 only, so a Sigsum policy (extension) may list an ML-DSA-44 log or
// witness by its 0x06 vkey: `witness <name> <0x06 vkey> [<url>]`, `log <0x06 vkey> [<url>]`.
//
// Pure: no file or network access, no Node-only module (this runs in browsers).
import { formatKeyId, parseCosignatureVkey, parseVkey, quoteInput, type Verifier } from '../note/keys.js';
import { KeyError } from '../note/errors.js';
import { keyLabel } from '../note/note.js';
import { ED25519 } from '../note/sigtypes/ed25519.js';
import { MLDSA44 } from '../note/sigtypes/mldsa44.js';
import { COSIGNATURE_V1 } from '../note/sigtypes/cosignature.js';
import { standardKeyId } from '../note/sigtypes/keyid.js';
import { sha256 } from '../crypto/index.js';
import { concatBytes, encodeBase64, fromHex, toHex, utf8 } from '../util/bytes.js';
import { GossipWitnessError } from '../errors.js';

export type PolicyDialect = 'tlog-policy' | 'sigsum';

export type PolicyErrorCode =
  | 'syntax' // bad characters, wrong number of fields, unknown keyword, bad threshold
  | 'bad-key' // a key that does not parse or has the wrong signature type for its role
  | 'duplicate-name'
  | 'duplicate-key' // two keys wrapping the same public key (or colliding key name + key ID)
  | 'unknown-name' // a name that is never defined
  | 'forward-reference' // a name used before the line that defines it (this includes cycles)
  | 'duplicate-member' // a name listed twice as a group member
  | 'quorum' // no quorum line, or more than one
  | 'extension' // the `origin` extension misused, or used in strict mode
  | 'limit'; // policy too large

/** A policy that cannot be used. `line` is 1-based; 0 when the error is about the whole file. */
export class PolicyError extends GossipWitnessError {
  declare readonly code: PolicyErrorCode;
  constructor(
    code: PolicyErrorCode,
    readonly line: number,
    readonly detail: string,
  ) {
    super({ code, message: line > 0 ? `line ${line}: ${detail}` : detail });
    this.name = 'PolicyError';
  }
}

export interface PolicyLog {
  /** Verifies the log's own signature lines (Ed25519, ECDSA, RFC 6962 STH or ML-DSA-44 subtree/v1). */
  readonly verifier: Verifier;
  /** The vkey as written, or for a Sigsum hex key the equivalent Ed25519 vkey. */
  readonly vkey: string;
  /** The checkpoint origin accepted for this log: the key name, or the `origin` line. */
  readonly origin: string;
  /** True when the origin came from an `origin` extension line. */
  readonly explicitOrigin: boolean;
  readonly url?: string;
  readonly line: number;
}

export interface PolicyWitness {
  readonly name: string;
  /** The witness's public key: Ed25519 (32 bytes), or ML-DSA-44 (1312 bytes) when verifier.type is 0x06. */
  readonly publicKey: Uint8Array;
  /**
   * The cosignature/v1 (0x04) or ML-DSA-44 subtree/v1 (0x06) verifier, whose key name the note's
   * lines must carry (tlog-policy vkeys; a 0x01 vkey is turned into its 0x04 form, a 0x06 vkey is
   * kept). Undefined for a Sigsum hex key: its lines are
   * recognised by key ID, SHA-256(line name || 0x0A || 0x04 || key)[0:4], for any line name.
   */
  readonly verifier?: Verifier;
  readonly vkey?: string;
  readonly url?: string;
  readonly line: number;
}

export type PolicyNode = { readonly kind: 'witness'; readonly index: number } | { readonly kind: 'group'; readonly index: number };

export interface PolicyGroup {
  readonly name: string;
  /** Threshold: at least k of the members must be satisfied (1 <= k <= members.length). */
  readonly k: number;
  readonly members: readonly string[];
  /** The members resolved; each refers to a witness or an earlier group. */
  readonly nodes: readonly PolicyNode[];
  readonly line: number;
}

export interface ParseOptions {
  /** 'auto' (default): Sigsum when the first log or witness key is 64 hex digits, else tlog-policy. */
  readonly dialect?: 'auto' | PolicyDialect;
  /**
   * Exactly C2SP tlog-policy: refuses the `origin` extension and Sigsum hex keys. (Duplicate-key,
   * name and reference rules are the same in both modes.)
   */
  readonly strict?: boolean;
}

/** Limits: tlog-policy asks for at least 32 logs, 32 witnesses and 32 groups. */
export const POLICY_LIMITS = {
  bytes: 1 << 20,
  logs: 1024,
  witnesses: 1024,
  groups: 1024,
} as const;

const NONE = 'none';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// tlog-policy: "written in decimal"; leading zeros are decimal too ("02" is 2), as Go's strconv reads them.
const THRESHOLD = /^[0-9]{1,9}$/;
const LOG_TYPES = new Set([0x01, 0x02, 0x05, MLDSA44]);

/** A parsed, checked policy. Build one with parsePolicy. */
export class Policy {
  /** Log signature verifiers by "name+keyid". */
  private readonly logsByLabel = new Map<string, number[]>();
  /** Witnesses with a fixed key name, by "name+keyid" of their cosignature/v1 key. */
  private readonly witnessesByLabel = new Map<string, number>();
  /** Witnesses given as Sigsum hex keys (matched by derived key ID). */
  readonly anyNameWitnesses: readonly number[];
  private readonly names = new Map<string, PolicyNode>();

  constructor(
    readonly dialect: PolicyDialect,
    readonly logs: readonly PolicyLog[],
    readonly witnesses: readonly PolicyWitness[],
    readonly groups: readonly PolicyGroup[],
    /** The quorum node, or null for `quorum none`. */
    readonly quorum: PolicyNode | null,
    /** The name on the quorum line ("none" for no cosignatures). */
    readonly quorumName: string,
  ) {
    logs.forEach((l, i) => {
      const k = keyLabel(l.verifier.name, l.verifier.keyId);
      this.logsByLabel.set(k, [...(this.logsByLabel.get(k) ?? []), i]);
    });
    const anyName: number[] = [];
    witnesses.forEach((w, i) => {
      this.names.set(w.name, { kind: 'witness', index: i });
      if (w.verifier) this.witnessesByLabel.set(keyLabel(w.verifier.name, w.verifier.keyId), i);
      else anyName.push(i);
    });
    groups.forEach((g, i) => this.names.set(g.name, { kind: 'group', index: i }));
    this.anyNameWitnesses = anyName;
    Object.freeze(this);
  }

  /** Indexes of the logs whose signature lines carry this key name and key ID. */
  logsForLine(name: string, keyId: number): readonly number[] {
    return this.logsByLabel.get(keyLabel(name, keyId)) ?? [];
  }

  /** The witness whose fixed-name cosignature key has this key name and key ID. */
  witnessForLine(name: string, keyId: number): number | undefined {
    return this.witnessesByLabel.get(keyLabel(name, keyId));
  }

  /** The witness or group with this name. */
  node(name: string): PolicyNode | undefined {
    return this.names.get(name);
  }

  /** Logs accepted for a checkpoint origin. */
  logsForOrigin(origin: string): PolicyLog[] {
    return this.logs.filter((l) => l.origin === origin);
  }

  /** Origins this policy accepts (one per log, deduplicated, in policy order). */
  origins(): string[] {
    return [...new Set(this.logs.map((l) => l.origin))];
  }

  /** Witnesses that the quorum depends on (directly or through groups), in policy order. */
  quorumWitnesses(): number[] {
    const out = new Set<number>();
    const visit = (n: PolicyNode | null): void => {
      if (!n) return;
      if (n.kind === 'witness') out.add(n.index);
      else for (const m of this.groups[n.index].nodes) visit(m);
    };
    visit(this.quorum);
    return [...out].sort((a, b) => a - b);
  }
}

/** The Sigsum checkpoint origin of a log key: sigsum.org/v1/tree/<hex SHA-256(key)>. */
export function sigsumOrigin(publicKey: Uint8Array): string {
  return `sigsum.org/v1/tree/${toHex(sha256(publicKey))}`;
}

interface Line {
  readonly no: number;
  readonly fields: string[];
  /** The text after the keyword and the whitespace that follows it, trailing whitespace removed. */
  readonly rest: string;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function describeByte(c: number): string {
  const names: Record<number, string> = { 0x0d: ' (CR: use LF line endings)', 0x00: ' (NUL)', 0x7f: ' (DEL)' };
  return `0x${c.toString(16).padStart(2, '0')}${names[c] ?? ''}`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Splits the policy into non-empty, non-comment lines of whitespace-separated fields. */
function lines(input: Uint8Array, sigsumComments: boolean): Line[] {
  const out: Line[] = [];
  let start = 0;
  let no = 0;
  while (start < input.length) {
    no++;
    let end = input.indexOf(0x0a, start);
    if (end < 0) end = input.length;
    let bytes = input.subarray(start, end);
    start = end + 1;
    // Only tab, newline, 0x20-0x7E and 0x80-0xFF are allowed, comments included.
    for (const c of bytes) {
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new PolicyError('syntax', no, `control character ${describeByte(c)} not allowed`);
    }
    let i = 0;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (i === bytes.length || bytes[i] === 0x23 /* # */) continue;
    if (sigsumComments) {
      // Sigsum: "#" starts a comment anywhere on a line.
      const hash = bytes.indexOf(0x23);
      if (hash >= 0) bytes = bytes.subarray(0, hash);
    }
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      // tlog-policy treats high-bit octets as opaque; here names, keys and URLs must be UTF-8
      // (note key names are UTF-8 text, so a name that is not could never match a signature).
      throw new PolicyError('syntax', no, 'not valid UTF-8 (names, keys and URLs must be UTF-8 text)');
    }
    const trimmed = text.replace(/^[ \t]+|[ \t]+$/g, '');
    const fields = trimmed.split(/[ \t]+/);
    const m = /^[^ \t]+[ \t]*/.exec(trimmed);
    out.push({ no, fields, rest: trimmed.slice(m ? m[0].length : 0) });
  }
  return out;
}

/** Whether a key field is an ML-DSA-44 (0x06) vkey, which both dialects accept. */
function isMlDsa44Vkey(key: string): boolean {
  try {
    return parseVkey(key).type === MLDSA44;
  } catch {
    return false;
  }
}

function detectDialect(ls: Line[]): PolicyDialect {
  for (const l of ls) {
    const key = l.fields[0] === 'log' ? l.fields[1] : l.fields[0] === 'witness' ? l.fields[2] : undefined;
    // 0x06 vkeys appear in both dialects: the first other key decides.
    if (key !== undefined && !isMlDsa44Vkey(key)) return HEX_KEY.test(key) ? 'sigsum' : 'tlog-policy';
  }
  return 'tlog-policy';
}

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? utf8(input) : input;
}

/**
 * Parses a tlog-policy or Sigsum policy. Throws PolicyError ("line N: ...") on the first problem.
 */
export function parsePolicy(input: string | Uint8Array, opts: ParseOptions = {}): Policy {
  const bytes = toBytes(input);
  if (bytes.length > POLICY_LIMITS.bytes) throw new PolicyError('limit', 0, `policy is ${bytes.length} bytes; at most ${POLICY_LIMITS.bytes} are accepted`);
  const strict = opts.strict === true;
  let dialect: PolicyDialect;
  if (opts.dialect === undefined || opts.dialect === 'auto') {
    // Detect on tlog-policy comment rules; a Sigsum trailing comment does not move the key field.
    dialect = detectDialect(lines(bytes, false));
  } else dialect = opts.dialect;
  if (strict && dialect === 'sigsum') throw new PolicyError('syntax', 0, 'strict mode accepts only C2SP tlog-policy (vkeys), not Sigsum hex keys');
  const ls = lines(bytes, dialect === 'sigsum');

  // Where each name is defined, to explain forward references.
  const definedAt = new Map<string, number>();
  for (const l of ls) {
    if ((l.fields[0] === 'witness' || l.fields[0] === 'group') && l.fields.length > 1 && !definedAt.has(l.fields[1])) {
      definedAt.set(l.fields[1], l.no);
    }
  }

  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  const names = new Map<string, { node: PolicyNode; line: number }>();
  const keys = new Map<string, { role: string; line: number }>();
  const labels = new Map<string, number>();
  const memberOf = new Map<string, { group: string; line: number }>();
  let quorum: { node: PolicyNode | null; name: string; line: number } | undefined;
  let previous: Line | undefined;

  // tlog-policy forbids "multiple log lines with the same public key" and "multiple witness lines
  // with the same public key". Stricter here, on purpose: one key as a log and as a witness is
  // refused too, since the log could then cosign its own checkpoints (docs/client.md).
  const checkKeyUnique = (no: number, role: string, key: Uint8Array, label: string | undefined): void => {
    const id = toHex(key);
    const seen = keys.get(id);
    if (seen) throw new PolicyError('duplicate-key', no, `${role} key is the same public key as the ${seen.role} on line ${seen.line}`);
    keys.set(id, { role, line: no });
    if (label !== undefined) {
      const other = labels.get(label);
      if (other !== undefined) throw new PolicyError('duplicate-key', no, `key name and key ID ${label} are the same as on line ${other}`);
      labels.set(label, no);
    }
  };

  const resolve = (no: number, name: string, what: string): PolicyNode => {
    if (name === NONE) throw new PolicyError('unknown-name', no, `"none" cannot be ${what}`);
    const d = names.get(name);
    if (d) return d.node;
    const later = definedAt.get(name);
    if (later === no) throw new PolicyError('forward-reference', no, `group ${JSON.stringify(name)} refers to itself`);
    if (later !== undefined) {
      throw new PolicyError('forward-reference', no, `${JSON.stringify(name)} is defined later, on line ${later}: names must be defined before they are used (this also rules out cycles)`);
    }
    throw new PolicyError('unknown-name', no, `${JSON.stringify(name)} is not defined (no witness or group of that name)`);
  };

  const defineName = (no: number, name: string, node: PolicyNode): void => {
    if (name === NONE) throw new PolicyError('duplicate-name', no, '"none" is predefined and cannot be redefined');
    const d = names.get(name);
    if (d) throw new PolicyError('duplicate-name', no, `${JSON.stringify(name)} is already defined on line ${d.line}`);
    names.set(name, { node, line: no });
  };

  for (const l of ls) {
    const [keyword, ...args] = l.fields;
    const no = l.no;
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2) throw new PolicyError('syntax', no, `log line needs a key and an optional URL: log <${dialect === 'sigsum' ? 'hex key' : 'vkey'}> [<url>]`);
        if (logs.length >= POLICY_LIMITS.logs) throw new PolicyError('limit', no, `more than ${POLICY_LIMITS.logs} logs`);
        const [key, url] = args;
        let verifier: Verifier;
        let origin: string;
        if (dialect === 'sigsum' && !HEX_KEY.test(key) && isMlDsa44Vkey(key)) {
          // Extension: an ML-DSA-44 log in a Sigsum policy; its origin is its key name.
          verifier = parseVkey(key);
          origin = verifier.name;
        } else if (dialect === 'sigsum') {
          const pub = hexKey(no, key, 'log');
          origin = sigsumOrigin(pub);
          const id = standardKeyId(origin, ED25519, pub);
          verifier = parseVkey(`${origin}+${formatKeyId(id)}+${encodeBase64(concatBytes(Uint8Array.of(ED25519), pub))}`);
        } else {
          verifier = vkeyOf(no, key, 'log', parseVkey);
          if (!LOG_TYPES.has(verifier.type)) {
            throw new PolicyError('bad-key', no, `log key has signature type 0x${verifier.type.toString(16).padStart(2, '0')}; a log signs with Ed25519 (0x01), ECDSA (0x02), RFC 6962 (0x05) or ML-DSA-44 (0x06)`);
          }
          origin = verifier.name;
        }
        checkKeyUnique(no, 'log', verifier.key, keyLabel(verifier.name, verifier.keyId));
        logs.push({ verifier, vkey: verifier.vkey, origin, explicitOrigin: false, url, line: no });
        break;
      }
      case 'origin': {
        if (strict) throw new PolicyError('extension', no, 'the "origin" line is an extension of this implementation; strict mode accepts only C2SP tlog-policy');
        if (!previous || previous.fields[0] !== 'log') throw new PolicyError('extension', no, 'an "origin" line must directly follow the "log" line it applies to');
        if (l.rest === '') throw new PolicyError('syntax', no, 'origin line needs the checkpoint origin: origin <origin line text>');
        const log = logs[logs.length - 1];
        logs[logs.length - 1] = { ...log, origin: l.rest, explicitOrigin: true };
        break;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3) throw new PolicyError('syntax', no, `witness line needs a name, a key and an optional URL: witness <name> <${dialect === 'sigsum' ? 'hex key' : 'vkey'}> [<url>]`);
        if (witnesses.length >= POLICY_LIMITS.witnesses) throw new PolicyError('limit', no, `more than ${POLICY_LIMITS.witnesses} witnesses`);
        const [name, key, url] = args;
        let w: PolicyWitness;
        if (dialect === 'sigsum' && !HEX_KEY.test(key) && isMlDsa44Vkey(key)) {
          // Extension: an ML-DSA-44 witness in a Sigsum policy, matched by key name and key ID.
          const v = parseVkey(key);
          checkKeyUnique(no, `witness ${JSON.stringify(name)}`, v.key, keyLabel(v.name, v.keyId));
          w = { name, publicKey: v.key, verifier: v, vkey: key, url, line: no };
        } else if (dialect === 'sigsum') {
          const pub = hexKey(no, key, 'witness');
          checkKeyUnique(no, `witness ${JSON.stringify(name)}`, pub, undefined);
          w = { name, publicKey: pub, url, line: no };
        } else {
          const v = vkeyOf(no, key, 'witness', parseCosignatureVkey);
          checkKeyUnique(no, `witness ${JSON.stringify(name)}`, v.key, keyLabel(v.name, v.keyId));
          w = { name, publicKey: v.key, verifier: v, vkey: key, url, line: no };
        }
        defineName(no, name, { kind: 'witness', index: witnesses.length });
        witnesses.push(w);
        break;
      }
      case 'group': {
        if (args.length < 3) throw new PolicyError('syntax', no, 'group line needs a name, a threshold and at least one member: group <name> all|any|<k> <name>...');
        if (groups.length >= POLICY_LIMITS.groups) throw new PolicyError('limit', no, `more than ${POLICY_LIMITS.groups} groups`);
        const [name, threshold, ...members] = args;
        const n = members.length;
        let k: number;
        if (threshold === 'all') k = n;
        else if (threshold === 'any') k = 1;
        else if (THRESHOLD.test(threshold)) k = Number(threshold);
        else throw new PolicyError('syntax', no, `group threshold must be "all", "any" or a decimal number, not ${JSON.stringify(threshold)}`);
        if (k < 1 || k > n) throw new PolicyError('syntax', no, `group threshold ${k} is out of range: the group has ${n} member${n === 1 ? '' : 's'} (need 1 <= k <= ${n})`);
        if (name === NONE || names.has(name)) defineName(no, name, { kind: 'group', index: -1 }); // throws duplicate-name
        const nodes: PolicyNode[] = [];
        const seen = new Set<string>();
        for (const m of members) {
          if (m === name) throw new PolicyError('forward-reference', no, `group ${JSON.stringify(name)} refers to itself`);
          if (seen.has(m)) throw new PolicyError('duplicate-member', no, `${JSON.stringify(m)} is listed twice in group ${JSON.stringify(name)}`);
          seen.add(m);
          nodes.push(resolve(no, m, 'a group member'));
          // tlog-policy: each defined name can be listed as a group member at most once, so a
          // witness contributes to the quorum in only one way.
          const prior = memberOf.get(m);
          if (prior) throw new PolicyError('duplicate-member', no, `${JSON.stringify(m)} is already a member of group ${JSON.stringify(prior.group)} (line ${prior.line}); a name can be a group member only once`);
        }
        for (const m of members) memberOf.set(m, { group: name, line: no });
        defineName(no, name, { kind: 'group', index: groups.length });
        groups.push({ name, k, members, nodes, line: no });
        break;
      }
      case 'quorum': {
        if (args.length !== 1) throw new PolicyError('syntax', no, 'quorum line needs exactly one name: quorum <name>|none');
        if (quorum) throw new PolicyError('quorum', no, `a policy has exactly one quorum line (the first is on line ${quorum.line})`);
        const [name] = args;
        quorum = { node: name === NONE ? null : resolve(no, name, 'the quorum'), name, line: no };
        break;
      }
      default:
        throw new PolicyError('syntax', no, `unknown keyword ${quoteInput(keyword, 40)} (expected log, witness, group, quorum${strict ? '' : ' or origin'})`);
    }
    previous = l;
  }
  if (!quorum) throw new PolicyError('quorum', 0, 'policy has no quorum line (use "quorum none" to require no cosignatures)');
  return new Policy(dialect, logs, witnesses, groups, quorum.node, quorum.name);
}

function hexKey(no: number, key: string, role: string): Uint8Array {
  if (!HEX_KEY.test(key)) throw new PolicyError('bad-key', no, `${role} key must be 64 hex digits (a Sigsum Ed25519 public key) or an ML-DSA-44 (0x06) vkey in a Sigsum policy`);
  return fromHex(key)!;
}

function vkeyOf(no: number, key: string, role: string, parse: (s: string) => Verifier): Verifier {
  if (HEX_KEY.test(key)) throw new PolicyError('bad-key', no, `${role} key is a hex key, but this is a tlog-policy file (vkeys); Sigsum hex keys cannot be mixed with vkeys`);
  try {
    return parse(key);
  } catch (e) {
    if (e instanceof KeyError) throw new PolicyError('bad-key', no, `${role} ${e.message}`);
    throw e;
  }
}

/** The cosignature/v1 key ID a Sigsum (any-name) witness has under a given note key name. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  return standardKeyId(name, COSIGNATURE_V1, publicKey);
}
