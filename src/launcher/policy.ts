// The client policy (c2sp.org/tlog-policy, src/policy/parse.ts) for a launched network: the log,
// every witness, and a k-of-n quorum over the witnesses. A witness with several keys (keyType
// [ed25519, ml-dsa-44]) is one operator: each key is a policy witness of its own
// (<name>-ed25519, <name>-ml-dsa-44) and the keys form a 1-of-n group named after the witness, and
// that group, not the keys, is the member the quorum counts. Otherwise one operator could meet
// two votes of a quorum alone (docs/client.md, "One witness, two keys"; docs/operator-guide.md).
//
//   log <log vkey> <url>
//   witness w1 <vkey> <url>
//   witness w2-ed25519 <0x04 vkey> <url>
//   witness w2-ml-dsa-44 <0x06 vkey> <url>
//   group w2 any w2-ed25519 w2-ml-dsa-44
//   witness w3 <vkey> <url>
//   group majority 2 w1 w2 w3
//   quorum majority
import { parseVkey } from '../note/keys.js';
import { MLDSA44 } from '../note/sigtypes/mldsa44.js';

export interface PolicyWitnessInput {
  readonly name: string;
  /** Every key's vkey (LaunchedWitness.vkeys). */
  readonly vkeys: readonly string[];
  readonly url?: string;
}

export interface ClientPolicyOptions {
  readonly log: { readonly vkey: string; readonly url?: string };
  readonly witnesses: readonly PolicyWitnessInput[];
  /** Witnesses (operators, not keys) that must cosign (default: a majority, floor(n/2)+1). */
  readonly k?: number;
  /** The quorum group's name (default majority). */
  readonly quorumName?: string;
}

export interface ClientPolicyMember {
  /** The network's witness name: a policy witness for one key, a 1-of-n group for several. */
  readonly name: string;
  /** The policy witness name of each key, in vkeys order (the witness name itself for a single key). */
  readonly keys: readonly { readonly name: string; readonly vkey: string }[];
}

export interface ClientPolicy {
  readonly text: string;
  /** The quorum group and how many of its members (one per network witness) must be satisfied. */
  readonly quorum: { readonly name: string; readonly k: number; readonly n: number };
  readonly members: readonly ClientPolicyMember[];
}

/** A policy key name's suffix for a vkey's type. */
function typeSuffix(vkey: string): string {
  const t = parseVkey(vkey).type;
  return t === MLDSA44 ? 'ml-dsa-44' : t === 0x04 || t === 0x01 ? 'ed25519' : `type${t.toString(16).padStart(2, '0')}`;
}

export function clientPolicy(opts: ClientPolicyOptions): ClientPolicy {
  const n = opts.witnesses.length;
  const k = opts.k ?? Math.floor(n / 2) + 1;
  if (n === 0) throw new Error('a client policy needs at least one witness');
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`quorum ${k} of ${n} witnesses is impossible`);
  const taken = new Set(opts.witnesses.map((w) => w.name));
  const unique = (base: string): string => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
    taken.add(name);
    return name;
  };
  const quorumName = unique(opts.quorumName ?? 'majority');
  const lines = [`log ${opts.log.vkey}${opts.log.url ? ` ${opts.log.url}` : ''}`];
  const members: ClientPolicyMember[] = [];
  for (const w of opts.witnesses) {
    if (w.vkeys.length === 0) throw new Error(`witness ${w.name} has no vkey`);
    const url = w.url ? ` ${w.url}` : '';
    if (w.vkeys.length === 1) {
      lines.push(`witness ${w.name} ${w.vkeys[0]}${url}`);
      members.push({ name: w.name, keys: [{ name: w.name, vkey: w.vkeys[0] }] });
      continue;
    }
    const keys = w.vkeys.map((vkey) => ({ name: unique(`${w.name}-${typeSuffix(vkey)}`), vkey }));
    for (const key of keys) lines.push(`witness ${key.name} ${key.vkey}${url}`);
    lines.push(`group ${w.name} any ${keys.map((x) => x.name).join(' ')}`);
    members.push({ name: w.name, keys });
  }
  lines.push(`group ${quorumName} ${k} ${members.map((m) => m.name).join(' ')}`, `quorum ${quorumName}`);
  return { text: lines.join('\n') + '\n', quorum: { name: quorumName, k, n }, members };
}
