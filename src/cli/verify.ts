// `gossip-witness verify`: does a checkpoint satisfy a cosigning policy (and is an entry in it)?
//   gossip-witness verify --policy FILE [CHECKPOINT]
//   gossip-witness verify --policy FILE --entry FILE --proof FILE.json CHECKPOINT
//   gossip-witness verify --policy FILE --proof FILE.tlog-proof (--entry FILE | --leaf-hash B64)
// Exit 0: satisfied (prints who cosigned). 1: refused, with the reason (the checkpoint, or the
// inclusion proof, does not pass). 2: unusable input (bad flags, unreadable file, a policy, a
// checkpoint or a proof file that does not parse). The table is EXIT_CODES in ./errors.ts.
import type { Command } from 'commander';
import { parsePolicy, PolicyError, type Policy, type PolicyDialect } from '../policy/parse.js';
import { verifyCosignedCheckpoint, type PolicyVerification, type VerifyOptions } from '../policy/verify.js';
import { parseInclusionProof, verifyInclusionAgainst, ProofFormatError, type InclusionEntry } from '../policy/inclusion.js';
import { isTlogProof, parseTlogProof, verifyTlogProof, TlogProofError } from '../policy/tlog-proof.js';
import { isSigsumProof, parseOpenSshEd25519, parseSigsumProof, verifySigsumProof, SigsumProofError } from '../policy/sigsum-proof.js';
import { decodeBase64, encodeBase64 } from '../util/bytes.js';
import { MAX_ENTRY_BYTES, readInput } from './io.js';
import { BadInputError, RefusedError, UsageError } from './errors.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export interface PolicyFlags {
  policy: string;
  strict?: boolean;
  dialect?: string;
  maxAge?: string;
  clockSkew?: string;
  now?: string;
  evidence?: string[];
}

export function loadPolicy(flags: PolicyFlags): Policy {
  const dialect = flags.dialect ?? 'auto';
  if (!['auto', 'tlog-policy', 'sigsum'].includes(dialect)) throw new UsageError(`--dialect must be auto, tlog-policy or sigsum, not ${JSON.stringify(dialect)}`);
  const bytes = new Uint8Array(readInput(flags.policy));
  try {
    return parsePolicy(bytes, { strict: flags.strict === true, dialect: dialect as 'auto' | PolicyDialect });
  } catch (e) {
    if (e instanceof PolicyError) throw new BadInputError(`policy ${flags.policy}: ${e.message}`);
    throw e;
  }
}

function seconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw new UsageError(`${flag} must be a whole number of seconds`);
  return Number(v);
}

export function verifyOptions(flags: PolicyFlags): VerifyOptions {
  const maxAge = seconds(flags.maxAge, '--max-age');
  const clockSkew = seconds(flags.clockSkew, '--clock-skew');
  const now = seconds(flags.now, '--now');
  const evidence = (flags.evidence ?? []).map((f) => new Uint8Array(readInput(f)));
  return {
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(clockSkew !== undefined ? { clockSkew } : {}),
    ...(now !== undefined ? { now: () => now } : {}),
    ...(evidence.length > 0 ? { knownEvidence: evidence } : {}),
  };
}

/** Flags shared by verify and fetch. */
export function policyOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--policy <file>', 'policy file: C2SP tlog-policy (vkeys) or Sigsum (hex keys)')
    .option('--strict', 'accept only C2SP tlog-policy: no "origin" extension, no Sigsum hex keys')
    .option('--dialect <dialect>', 'auto (default), tlog-policy or sigsum')
    .option('--max-age <seconds>', 'refuse cosignatures older than this (counted as absent; a timestamp of 0 never meets it)')
    .option('--clock-skew <seconds>', 'clock skew allowance for --max-age and future timestamps (default 60)')
    .option('--now <seconds>', 'the current time as POSIX seconds (default: the system clock)')
    .option('--evidence <file>', 'proven split-view evidence: refuse its origin (repeatable)', collect, []);
}

function iso(t: bigint): string {
  const ms = Number(t) * 1000;
  return Number.isFinite(ms) && ms < 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : `${t}`;
}

/** The human report: log, each witness, each group, the quorum. */
export function formatReport(v: Omit<PolicyVerification, 'code'>): string {
  const out: string[] = [];
  if (v.checkpoint) out.push(`checkpoint: ${v.checkpoint.origin} size ${v.checkpoint.size}`);
  out.push(`log: ${v.logVerified ? `verified (${v.log?.vkey.split('+').slice(0, 2).join('+') ?? ''})` : 'NOT verified'}`);
  if (v.logVerified) {
    for (const w of v.witnesses) {
      const when = w.timestamp === undefined ? '' : w.timestamp === 0n ? ' with timestamp 0 (no time claimed)' : ` at ${iso(w.timestamp)}`;
      const key = w.key ? ` [${w.key}]` : '';
      out.push(`witness ${w.name}: ${w.status}${when}${key}`);
    }
    for (const g of v.groups) {
      const sat = g.satisfied === null ? 'undecided' : g.satisfied ? 'satisfied' : 'not satisfied';
      out.push(`group ${g.name} (${g.k} of ${g.n}): ${sat}${g.satisfiedMembers.length ? ` by ${g.satisfiedMembers.join(', ')}` : ''}`);
    }
    out.push(`quorum ${v.quorum.name}: ${v.quorum.satisfied === null ? 'undecided' : v.quorum.satisfied ? 'satisfied' : 'not satisfied'}`);
    if (v.checkpoint && v.extensionsAuthenticated === false) out.push(`extension lines: NOT covered by the log signature (ML-DSA-44 or RFC 6962 signs origin, size and root only): do not rely on them`);
    if (v.ignoredLines > 0) out.push(`ignored: ${v.ignoredLines} signature line${v.ignoredLines === 1 ? '' : 's'} from keys not in the policy`);
  }
  return out.join('\n') + '\n';
}

function decodeLeafHash(b64: string): Uint8Array {
  const h = decodeBase64(b64);
  if (h === null || h.length !== 32 || encodeBase64(h) !== b64) throw new UsageError('--leaf-hash must be the base64 of a 32-byte RFC 6962 leaf hash, SHA-256(0x00 || entry)');
  return h;
}

type VerifyFlags = PolicyFlags & { entry?: string; proof?: string; leafHash?: string; submitKey?: string };

/** verify --proof FILE.tlog-proof (--entry FILE | --leaf-hash B64): the proof carries the checkpoint. */
function verifyTlogProofFile(checkpoint: string | undefined, flags: VerifyFlags & { proof: string }, proofBytes: Uint8Array): void {
  if (checkpoint !== undefined) throw new UsageError('a c2sp.org/tlog-proof carries its checkpoint: give no CHECKPOINT argument');
  if ((flags.entry === undefined) === (flags.leafHash === undefined)) throw new UsageError('a tlog-proof needs exactly one of --entry FILE and --leaf-hash B64');
  for (const f of ['maxAge', 'clockSkew', 'now'] as const) {
    if (flags[f] !== undefined) throw new UsageError(`--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} does not apply to a tlog-proof: cosignature age is not checked for proofs (docs/client.md)`);
  }
  const policy = loadPolicy(flags);
  const opts = verifyOptions(flags);
  const entry = flags.leafHash !== undefined ? { leafHash: decodeLeafHash(flags.leafHash) } : { entry: new Uint8Array(readInput(flags.entry, MAX_ENTRY_BYTES)) };
  let proof;
  try {
    proof = parseTlogProof(proofBytes);
  } catch (e) {
    if (e instanceof TlogProofError) throw new BadInputError(`proof ${flags.proof}: ${e.message}`);
    throw e;
  }
  const v = verifyTlogProof(proof, policy, entry, { ...opts, exhaustive: true });
  process.stdout.write(formatReport(v));
  if (!v.ok) {
    const msg = `refused (${v.code}): ${v.reason}`;
    throw v.code === 'malformed' ? new BadInputError(msg) : new RefusedError(msg);
  }
  process.stdout.write(`entry: included at index ${proof.index}${proof.extra !== undefined ? ` (the proof's extra data, ${proof.extra.length} bytes, is not authenticated and was not used)` : ''}\n`);
  process.stdout.write(`OK: ${v.reason}\n`);
}

/** verify --proof FILE (a Sigsum proof) --entry MESSAGE --submit-key KEYS: what sigsum-verify checks. */
function verifySigsumProofFile(checkpoint: string | undefined, flags: VerifyFlags & { proof: string }, proofBytes: Uint8Array): void {
  if (checkpoint !== undefined) throw new UsageError('a Sigsum proof carries its tree head: give no CHECKPOINT argument');
  if (flags.entry === undefined || flags.leafHash !== undefined) throw new UsageError('a Sigsum proof needs --entry FILE (the signed message) and no --leaf-hash');
  if (flags.submitKey === undefined) throw new UsageError('a Sigsum proof needs --submit-key FILE (submitter public keys, one per line in OpenSSH format, as for sigsum-verify -k)');
  for (const f of ['maxAge', 'clockSkew', 'now'] as const) {
    if (flags[f] !== undefined) throw new UsageError(`--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} does not apply to a Sigsum proof: cosignature age is not checked for proofs`);
  }
  const keys = new TextDecoder()
    .decode(readInput(flags.submitKey))
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l, i) => parseOpenSshEd25519(l) ?? (() => { throw new BadInputError(`--submit-key ${flags.submitKey}: line ${i + 1} is not an OpenSSH ssh-ed25519 public key`); })());
  if (keys.length === 0) throw new BadInputError(`--submit-key ${flags.submitKey}: no keys`);
  const policy = loadPolicy(flags);
  const opts = verifyOptions(flags);
  let proof;
  try {
    proof = parseSigsumProof(proofBytes);
  } catch (e) {
    if (e instanceof SigsumProofError) throw new BadInputError(`proof ${flags.proof}: ${e.message}`);
    throw e;
  }
  const v = verifySigsumProof(proof, policy, { message: new Uint8Array(readInput(flags.entry, MAX_ENTRY_BYTES)) }, keys, { ...opts, exhaustive: true });
  process.stdout.write(formatReport(v));
  if (!v.ok) {
    const msg = `refused (${v.code}): ${v.reason}`;
    throw v.code === 'malformed' ? new BadInputError(msg) : new RefusedError(msg);
  }
  process.stdout.write(`entry: included at index ${proof.leafIndex} (signed by submitter key hash ${Array.from(proof.leaf.keyHash, (b) => b.toString(16).padStart(2, '0')).join('')})\n`);
  process.stdout.write(`OK: ${v.reason}\n`);
}

export function registerVerify(program: Command): void {
  policyOptions(program.command('verify'))
    .description('check that a checkpoint satisfies a cosigning policy (exit 0), and optionally that an entry is included in it')
    .option('--entry <file>', 'the entry (raw leaf data) whose inclusion to check; needs --proof')
    .option('--leaf-hash <base64>', "instead of --entry: the entry's RFC 6962 leaf hash, SHA-256(0x00 || entry); needs --proof")
    .option(
      '--proof <file>',
      'inclusion proof: a c2sp.org/tlog-proof@v1 file (.tlog-proof, told apart by its first line; it carries the checkpoint), a Sigsum proof (first line version=N; with --submit-key) or JSON {"leafIndex": N, "treeSize": N (optional), "hashes": [base64...]} (with a CHECKPOINT)',
    )
    .option('--submit-key <file>', 'Sigsum proofs: submitter public keys, one per line in OpenSSH format (as sigsum-verify -k)')
    .argument('[checkpoint]', 'cosigned checkpoint note (stdin when absent or "-"); not with a tlog-proof or Sigsum proof')
    .addHelpText(
      'after',
      `
Examples:
  gossip-witness verify --policy policy.txt checkpoint.txt
  gossip-witness verify --policy policy.txt --proof entry.tlog-proof --entry entry.bin
  gossip-witness verify --policy policy.txt --proof entry.tlog-proof --leaf-hash <base64>
  gossip-witness verify --policy policy.txt --entry entry.bin --proof proof.json checkpoint.txt
  gossip-witness verify --policy sigsum-policy --proof msg.proof --entry msg --submit-key submit.pub
Cosignature age (--max-age) is not checked for tlog-proofs or Sigsum proofs.`,
    )
    .action((checkpoint: string | undefined, flags: VerifyFlags) => {
      const stdin = (f: string | undefined) => f === undefined || f === '-';
      if (flags.policy === '-' && flags.proof === undefined && stdin(checkpoint)) throw new UsageError('--policy - and the checkpoint cannot both be read from stdin: give the checkpoint as a file');
      if (flags.proof !== undefined) {
        const proofBytes = new Uint8Array(readInput(flags.proof));
        if (isTlogProof(proofBytes)) return verifyTlogProofFile(checkpoint, { ...flags, proof: flags.proof }, proofBytes);
        if (isSigsumProof(proofBytes)) return verifySigsumProofFile(checkpoint, { ...flags, proof: flags.proof }, proofBytes);
        if (proofBytes.length > 0 && new TextDecoder().decode(proofBytes.subarray(0, 40)).startsWith('c2sp.org/tlog-proof')) {
          throw new BadInputError(`proof ${flags.proof}: the first line must be exactly "c2sp.org/tlog-proof@v1" followed by a newline`);
        }
      }
      if (flags.entry !== undefined && flags.leafHash !== undefined) throw new UsageError('give --entry or --leaf-hash, not both');
      const hasEntry = flags.entry !== undefined || flags.leafHash !== undefined;
      if (hasEntry !== (flags.proof !== undefined)) throw new UsageError('--entry (or --leaf-hash) and --proof go together');
      if (hasEntry && (checkpoint === undefined || checkpoint === '-')) {
        throw new UsageError('with a JSON --proof, give the CHECKPOINT file as an argument');
      }
      const policy = loadPolicy(flags);
      const opts = verifyOptions(flags);
      let proof;
      let entry: InclusionEntry | undefined;
      if (hasEntry && flags.proof !== undefined) {
        entry = flags.leafHash !== undefined ? { leafHash: decodeLeafHash(flags.leafHash) } : { entry: new Uint8Array(readInput(flags.entry, MAX_ENTRY_BYTES)) };
        try {
          proof = parseInclusionProof(new Uint8Array(readInput(flags.proof)));
        } catch (e) {
          if (e instanceof ProofFormatError) throw new BadInputError(`proof ${flags.proof}: ${e.message}`);
          throw e;
        }
      }
      const note = new Uint8Array(readInput(checkpoint));
      const v = verifyCosignedCheckpoint(note, policy, { ...opts, exhaustive: true });
      process.stdout.write(formatReport(v));
      if (!v.ok) {
        const msg = `refused (${v.code}): ${v.reason}`;
        throw v.code === 'malformed' ? new BadInputError(msg) : new RefusedError(msg);
      }
      if (entry && proof) {
        const inc = verifyInclusionAgainst(v, entry, proof);
        if (!inc.ok) throw new RefusedError(`refused (inclusion): ${inc.reason}`);
        process.stdout.write(`entry: included at index ${proof.leafIndex}\n`);
      }
      process.stdout.write(`OK: ${v.reason}\n`);
    });
}
