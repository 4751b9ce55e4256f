// `npm run demo`: the whole story on 127.0.0.1 in about half a minute. It starts the local log and
// three witnesses of network-config/local-network.yaml through the launcher, grows the log while
// it is honest (every witness cosigns, cosignatures are gossiped, a 2-of-3 client accepts), then
// lets the log equivocate toward one witness and shows split-view evidence appearing, verified,
// at every witness and the client refusing the forked checkpoint.
//
// Post-quantum end to end: in local-network.yaml the log signs with ML-DSA-44 (keyType ml-dsa-44,
// as `gossip-witness log serve --key-type ml-dsa-44`) and w2 cosigns with ML-DSA-44, both signature
// type 0x06 (c2sp.org/tlog-cosignature subtree/v1). The demo prints each key's type, and the
// client's acceptance requires every ML-DSA-44 signature in the network (the log's and each
// ML-DSA-44 witness key's) to be on the accepted checkpoint and verified; the split-view evidence
// is verified with the log's 0x06 key. A network file without ML-DSA-44 keys runs the Ed25519 story.
//
// Dual-key (issue 14): w2 holds two keys (keyType [ed25519, ml-dsa-44]), an Ed25519 one
// (cosignature/v1, 0x04) and the ML-DSA-44 one. The demo shows that w2 answered add-checkpoint with
// one cosignature line per key, both verified, and that the client's policy (the launcher's
// clientPolicy: w2's two keys are one 1-of-2 group) counted w2 once: its two lines alone do not
// meet the 2-of-3. A witness with several keys always gets these checks.
//
// Interactive (a terminal, CI unset): pauses before the fork, and keeps the network running at the
// end until Ctrl-C. Unattended (CI=true, or no terminal): runs straight through and exits 0 only
// if every witness holds verified evidence and the client refused the fork within 60 s (and, with
// ML-DSA-44 keys in the network, the client verified their signatures on the accepted checkpoint).
// Ctrl-C (SIGINT) or SIGTERM at any point: stops every process, removes the temporary directory,
// exits 130.
//
//   node --import tsx src/demo/demo.ts [--network FILE] [--keep-running] [--screenshot FILE.png]
// --keep-running: unattended, but keep the network up at the end until a signal (tests use it).
// --screenshot: after the split view is caught, photograph the first honest witness's status page
// in headless Chromium (Debian's /usr/bin/chromium, playwright-core; docs/status-page-demo.png).
import '../platform.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launch, parseNetworkConfig, clientPolicy, FORK_HEADER, type ClientPolicy, type LaunchedNetwork, type LaunchedWitness } from '../launcher/index.js';
import { parsePolicy, verifyCosignedCheckpoint, gatherCosignatures, monitoringUrl, type Policy, type PolicyVerification } from '../policy/index.js';
import { verifyEvidence } from '../witness/evidence.js';
import { formatKeyId, parseCosignatureVkey, parseVkey } from '../note/keys.js';
import { openNote, parseNote } from '../note/note.js';
import type { LocalLog } from '../logs/local-log/index.js';
import { MLDSA44 } from '../note/sigtypes/mldsa44.js';
import { GossipWitnessError } from '../errors.js';

const BUDGET_MS = 60_000;

const t0 = Date.now();
const unattended = isTruthy(process.env.CI) || !process.stdin.isTTY || !process.stdout.isTTY;
const deadline = t0 + BUDGET_MS - 3_000; // leave time to stop everything inside the 60 s

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function say(msg: string): void {
  const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${s}s] ${msg}\n`);
}

class DemoFailure extends GossipWitnessError {
  constructor(message: string) {
    super({ code: 'REFUSED', message });
  }
}

/** Polls cond until it is true; fails the demo past the overall deadline. */
async function waitUntil(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (stopping) throw new Stopped();
    try {
      if (await cond()) return;
    } catch (e) {
      if (e instanceof DemoFailure) throw e;
      // a process still starting, a request timing out: try again
    }
    if (Date.now() > deadline) throw new DemoFailure(`${what}: did not happen within ${BUDGET_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Control flow, not a failure: the signal handler exits. */
class Stopped extends GossipWitnessError {
  constructor() {
    super({ code: 'UNAVAILABLE', message: 'stopped' });
  }
}
let stopping = false;
let launching: Promise<LaunchedNetwork> | undefined;
let stopPromise: Promise<void> | undefined;

/** Stops everything launched, waiting for a launch in progress first (its children must not leak). */
function stopNetwork(): Promise<void> {
  return (stopPromise ??= (async () => {
    const n = await launching?.catch(() => undefined);
    await n?.stop().catch(() => {});
  })());
}

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  throw new Error('cannot find the gossip-witness package root');
}

async function text(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
  return { status: r.status, body: await r.text() };
}

/** The size this witness last cosigned for origin (0n when none). */
async function cosignedSize(w: LaunchedWitness, origin: string): Promise<bigint> {
  const r = await text(monitoringUrl(w.url, origin));
  return r.status === 200 ? BigInt(r.body.split('\n')[1]) : 0n;
}

/** A counter from the witness's /metrics, summed over series whose labels include all of `labels`. */
async function metric(w: LaunchedWitness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const r = await text(`${w.url}/metrics`);
  let sum = 0;
  for (const line of r.body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

function short(s: string): string {
  return s.length > 12 ? s.slice(0, 12) + '…' : s;
}

function isMlDsa(vkey: string): boolean {
  return parseVkey(vkey).type === MLDSA44;
}

/** What a vkey's signature type is, for the output. */
function keyType(vkey: string): string {
  const t = parseVkey(vkey).type;
  if (t === MLDSA44) return 'ML-DSA-44 subtree/v1 (0x06, post-quantum)';
  if (t === 0x04) return 'Ed25519 cosignature/v1 (0x04)';
  if (t === 0x01) return 'Ed25519 (0x01)';
  return `signature type 0x${t.toString(16).padStart(2, '0')}`;
}

async function story(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--network');
  const file = i >= 0 && args[i + 1] ? args[i + 1] : join(repoRoot(), 'network-config/local-network.yaml');
  const network = parseNetworkConfig(readFileSync(file, 'utf8'), file);
  const logCfg = network.logs[0];
  if (logCfg.forkAt === undefined) throw new DemoFailure(`${file}: the first log needs forkAt (where it starts to equivocate)`);
  const forkAt = Number(logCfg.forkAt);
  const victims = network.witnesses.filter((w) => w.sees[logCfg.name] === 'b').map((w) => w.name);
  if (victims.length === 0 || victims.length === network.witnesses.length) throw new DemoFailure(`${file}: some but not all witnesses must see branch b of ${logCfg.name}`);

  say(`gossip-witness demo: ${network.witnesses.length} witnesses and a local log on 127.0.0.1 (${unattended ? 'unattended' : 'Ctrl-C stops everything'})`);
  say(`network: ${file}`);
  say('starting the witness processes and the log (keys are generated into a temporary directory)…');
  launching = launch({ network });
  const n = await launching;
  if (stopping) throw new Stopped();
  say(`keys, configs and data: ${n.dir} (removed on exit)`);
  const { log, origin, vkey: logVkey, url: logUrl } = n.logs.get(logCfg.name)!;
  say(`log ${logCfg.name}: ${logUrl}  origin "${origin}"  key ${keyType(logVkey)}`);
  for (const w of n.witnesses) {
    if (w.vkeys.length === 1) {
      say(`witness ${w.name}: ${w.url}  vkey ${w.vkey.slice(0, 40)}…  peer ${short(w.peerId)}  key ${keyType(w.vkey)}`);
      continue;
    }
    say(`witness ${w.name}: ${w.url}  peer ${short(w.peerId)}  ${w.vkeys.length} keys (dual-key: one cosignature line per key):`);
    w.vkeys.forEach((v, j) => say(`  ${w.name} key ${j + 1}: vkey ${v.slice(0, 40)}…  key ${keyType(v)}`));
  }
  const pqLog = isMlDsa(logVkey);
  const pqWitnesses = n.witnesses.filter((w) => w.vkeys.some(isMlDsa));
  const multiKey = n.witnesses.filter((w) => w.vkeys.length > 1);

  // The client: a tlog-policy accepting a checkpoint of this log with cosignatures from 2 of the 3
  // witnesses; a witness with several keys is one 1-of-n group of its keys, counted once.
  const cp = clientPolicy({ log: { vkey: logVkey, url: logUrl }, witnesses: n.witnesses.map((w) => ({ name: w.name, vkeys: w.vkeys, url: w.url })) });
  const k = cp.quorum.k;
  const policy: Policy = parsePolicy(cp.text);
  say(`client policy: ${k} of ${n.witnesses.length} witnesses (${n.witnesses.map((w) => w.name).join(', ')}) must cosign a checkpoint of ${origin}`);
  for (const w of multiKey) {
    const keys = cp.members.find((m) => m.name === w.name)!.keys.map((x) => x.name);
    say(`  ${w.name}'s ${keys.length} keys are one operator: policy witnesses ${keys.join(', ')} in one group (group ${w.name} any ${keys.join(' ')}), a single member of the ${k}-of-${n.witnesses.length}`);
  }

  // 1. The honest log grows; every witness cosigns each checkpoint.
  say(`— 1. the log is honest: ${forkAt} entries, in two batches`);
  const half = Math.max(1, Math.floor(forkAt / 2));
  for (const target of [half, forkAt]) {
    const cur = Number(log.size('a'));
    await log.append(Array.from({ length: target - cur }, (_, j) => `entry ${cur + j}`));
    await log.publish();
    say(`log ${logCfg.name} signed a checkpoint of size ${target}${pqLog ? ' with its ML-DSA-44 key' : ''} and pushed it to every witness`);
    const seen = new Set<string>();
    await waitUntil(`every witness cosigns size ${target}`, async () => {
      for (const w of n.witnesses) {
        if (seen.has(w.name) || (await cosignedSize(w, origin)) < BigInt(target)) continue;
        seen.add(w.name);
        say(`  ${w.name} verified the consistency proof and cosigned size ${target}`);
      }
      return seen.size === n.witnesses.length;
    });
  }
  for (const w of multiKey) await reportAnswerLines(log, w, forkAt);

  // 2. Gossip: each witness publishes its cosigned checkpoint; the others verify and merge it.
  say('— 2. gossip: the witnesses exchange their cosignatures over libp2p (by default gossip version 2, its exchange protocol)');
  await waitUntil('every witness receives cosignatures from its peers', async () => {
    const counts = await Promise.all(n.witnesses.map((w) => metric(w, 'gossip_messages_total', { verdict: 'accept' })));
    return counts.every((c) => c > 0);
  });
  for (const w of n.witnesses) {
    const peers = await metric(w, 'gossip_peers');
    // Version 1 counts cosigned checkpoints on its topic; version 2 counts log-signed checkpoints and cosignatures.
    const accepted = await metric(w, 'gossip_messages_total', { verdict: 'accept' });
    say(`  ${w.name}: ${peers} peers; accepted ${accepted} gossip message(s) new to it (checkpoints and other witnesses' cosignatures)`);
  }

  // 3. The client accepts the honest checkpoint. Exhaustive: every cosignature on it is checked,
  // not only the first k, so an ML-DSA-44 witness's line is verified wherever it is in the policy.
  const honest = await gatherCosignatures(policy, origin, { timeoutMs: 3000, verify: { exhaustive: true } });
  if (!honest.ok || !honest.best) throw new DemoFailure(`the client refused the honest checkpoint: ${honest.reason}`);
  const quorum = honest.best.verification.groups.find((g) => g.name === cp.quorum.name);
  say(`— 3. client: ACCEPTS size ${honest.best.checkpoint.size}, cosigned by ${(quorum?.satisfiedMembers ?? honest.best.verification.cosigners).join(', ')} (${k} of ${n.witnesses.length} needed)`);
  for (const w of multiKey) reportCountedOnce(honest.best.note, honest.best.verification, policy, cp, w);
  if (pqLog || pqWitnesses.length > 0) reportPostQuantum(honest.best.note, honest.best.verification, logVkey, pqWitnesses, cp);

  if (!unattended) await pressEnter(`Press Enter to make the log equivocate toward ${victims.join(', ')} (Ctrl-C stops)… `);

  // 4. Equivocation: the next entries make two branches with different roots at one size.
  say(`— 4. the log EQUIVOCATES: from size ${forkAt} on it shows ${victims.join(', ')} another history (branch b), signed with the same key`);
  await log.append(['entry A', 'entry B']);
  await log.publish();
  const size = log.size('a');
  say(`log ${logCfg.name}: size ${size} on branch a (for ${n.witnesses.filter((w) => !victims.includes(w.name)).map((w) => w.name).join(', ')}), size ${log.size('b')} with another root on branch b (for ${victims.join(', ')})`);

  // 5. Evidence at every witness, verified with the log's key as `gossip-witness evidence verify` does.
  say('— 5. witnesses compare notes over gossip: the same size with two roots is a proven split view');
  const keys = [parseVkey(logVkey)];
  if (pqLog) say('  (evidence is two checkpoints carrying the log\'s ML-DSA-44 signatures; each is checked with the log\'s 0x06 vkey)');
  const verified = new Set<string>();
  await waitUntil('verified evidence at every witness', async () => {
    for (const w of n.witnesses) {
      if (verified.has(w.name)) continue;
      const list = JSON.parse((await text(`${w.url}/evidence?origin=${encodeURIComponent(origin)}`)).body) as { id: string }[];
      if (list.length === 0) continue;
      const bytes = new Uint8Array(await (await fetch(`${w.url}/evidence/${list[0].id}`)).arrayBuffer());
      const v = verifyEvidence(bytes, () => keys);
      if (!v.ok) throw new DemoFailure(`${w.name} serves evidence that does not verify: ${v.reason}`);
      verified.add(w.name);
      const what = v.a.size === v.b.size ? `two different roots for tree size ${v.a.size}` : `checkpoints of sizes ${v.a.size} and ${v.b.size} that are not consistent`;
      say(`  ${w.name}: split view evidence ${list[0].id.slice(0, 16)}… VERIFIED: the log signed ${what}`);
    }
    return verified.size === n.witnesses.length;
  });

  // 6. The client: the forked checkpoint (what a victim of the log sees) has too few cosignatures.
  let forked = '';
  await waitUntil(`the forked checkpoint carries ${victims.join(', ')}'s cosignature`, async () => {
    const r = await text(`${logUrl}/checkpoint`, { [FORK_HEADER]: 'b' });
    forked = r.body;
    return r.status === 200 && r.body.split('\n')[1] === String(size) && n.witnesses.filter((w) => victims.includes(w.name)).every((w) => r.body.includes(`\u2014 ${w.keyName} `));
  });
  const fv = verifyCosignedCheckpoint(forked, policy, { exhaustive: true });
  if (fv.ok) throw new DemoFailure('the client ACCEPTED the forked checkpoint');
  say(`— 6. client: REFUSES the forked checkpoint of size ${size} (cosigned only by ${fv.cosigners.join(', ') || 'nobody'}): ${fv.reason}`);
  const after = await gatherCosignatures(policy, origin, { timeoutMs: 3000 });
  const split = after.disagreements.find((d) => d.kind === 'split-view');
  if (split) say(`  asking all ${n.witnesses.length} witnesses, the client also sees the disagreement itself: ${split.reason}`);

  const si = args.indexOf('--screenshot');
  if (si >= 0 && args[si + 1]) {
    const honest = n.witnesses.find((w) => !victims.includes(w.name))!;
    await screenshot(`${honest.url}/`, args[si + 1]);
    say(`  screenshot of ${honest.name}'s status page: ${args[si + 1]}`);
  }

  say(`OUTCOME: split view caught. Every witness (${[...verified].join(', ')}) holds verified evidence; the ${k}-of-${n.witnesses.length} client refused the forked checkpoint.`);
  if (pqLog || pqWitnesses.length > 0) {
    const what = [pqLog ? `the log signed every checkpoint` : '', pqWitnesses.length > 0 ? `${pqWitnesses.map((w) => w.name).join(', ')} cosigned` : ''].filter(Boolean).join(' and ');
    const where = pqLog ? 'on the accepted checkpoint and in the split-view evidence' : 'on the accepted checkpoint';
    say(`POST-QUANTUM: ${what} with ML-DSA-44 (0x06 subtree/v1); the client verified those signatures ${where}.`);
  }
  for (const w of multiKey) {
    say(`DUAL-KEY: ${w.name} answered add-checkpoint with ${w.vkeys.length} cosignature lines, one per key (${w.vkeys.map(keyTypeShort).join(', ')}); the ${k}-of-${n.witnesses.length} client counted ${w.name} once (its ${w.vkeys.length} keys are one group).`);
  }
}

function keyTypeShort(vkey: string): string {
  const t = parseVkey(vkey).type;
  return t === MLDSA44 ? 'ML-DSA-44 0x06' : t === 0x04 || t === 0x01 ? 'Ed25519 0x04' : `0x${t.toString(16).padStart(2, '0')}`;
}

function keyId(vkey: string): string {
  const v = parseVkey(vkey);
  return `${v.name}+${formatKeyId(v.keyId)}`;
}

/**
 * What a witness with several keys answered the log's add-checkpoint for size `size` (the lines
 * the log kept from its answer): one cosignature line per key, each verifying under that key's
 * vkey, or the demo fails.
 */
async function reportAnswerLines(log: LocalLog, w: LaunchedWitness, size: number): Promise<void> {
  let lines = '';
  let text = '';
  await waitUntil(`the log holds ${w.name}'s add-checkpoint answer for size ${size}`, async () => {
    const f = log.witnesses().find((x) => x.url === w.url);
    if (f?.cosignedSize !== BigInt(size) || f.lastOutcome?.kind !== 'cosigned') return false;
    const note = log.checkpoint('a');
    text = note.slice(0, note.indexOf('\n\n') + 1);
    lines = f.lastOutcome.lines;
    return text.split('\n')[1] === String(size);
  });
  const count = lines.split('\n').filter(Boolean).length;
  let verified: string[] = [];
  try {
    verified = openNote(`${text}\n${lines}`, w.vkeys.map((v) => parseCosignatureVkey(v))).verified.map((l) => `${l.name}+${formatKeyId(l.keyId)}`);
  } catch (e) {
    throw new DemoFailure(`${w.name}'s add-checkpoint answer does not verify: ${(e as Error).message}`);
  }
  const ids = w.vkeys.map(keyId);
  if (count !== w.vkeys.length || !ids.every((id) => verified.includes(id))) {
    throw new DemoFailure(`${w.name} has ${w.vkeys.length} keys but answered add-checkpoint with ${count} cosignature line(s), ${verified.length} verified (${verified.join(', ') || 'none'})`);
  }
  say(`  ${w.name} answered add-checkpoint with ${count} cosignature lines, one per key, each VERIFIED with its vkey: ${w.vkeys.map((v) => `${keyId(v)} (${keyTypeShort(v)})`).join(', ')}`);
}

/**
 * The client counted a witness with several keys once: its keys' group is satisfied and is one
 * member of the quorum group, and the accepted checkpoint with only the log's and this witness's
 * lines is refused (one operator cannot meet a k > 1 quorum alone), or the demo fails.
 */
function reportCountedOnce(note: string, v: PolicyVerification, policy: Policy, cp: ClientPolicy, w: LaunchedWitness): void {
  const member = cp.members.find((m) => m.name === w.name)!;
  const group = v.groups.find((g) => g.name === w.name);
  const quorum = v.groups.find((g) => g.name === cp.quorum.name);
  const verifiedKeys = member.keys.filter((x) => v.witnesses.find((r) => r.name === x.name)?.status === 'verified').map((x) => x.name);
  if (group?.satisfied !== true || quorum?.satisfied !== true || quorum.satisfiedMembers.filter((m) => m === w.name).length !== 1 || member.keys.some((x) => quorum.satisfiedMembers.includes(x.name))) {
    throw new DemoFailure(`the client did not count ${w.name} as one group member of ${cp.quorum.name}`);
  }
  // The same checkpoint with only the log's signature and this witness's lines.
  const cut = note.indexOf('\n\n');
  const own = new Set([parseVkey(w.vkey).name, v.log ? parseVkey(v.log.vkey).name : '']);
  const alone = note.slice(0, cut + 2) + note.slice(cut + 2).split('\n').filter((l) => l !== '' && own.has(l.slice(2, l.lastIndexOf(' ')))).join('\n') + '\n';
  const av = verifyCosignedCheckpoint(alone, policy, { exhaustive: true });
  if (av.ok && cp.quorum.k >= 2) throw new DemoFailure(`the client accepted a checkpoint cosigned by ${w.name} alone`);
  const aloneMembers = av.groups.find((g) => g.name === cp.quorum.name)?.satisfiedMembers.length ?? 0;
  say(`  the client's ${cp.quorum.k}-of-${cp.quorum.n} counted ${w.name} once: its keys ${verifiedKeys.join(' and ')} VERIFIED, and they are one group (${w.name}), one of the members ${quorum.satisfiedMembers.join(', ')}`);
  if (cp.quorum.k >= 2) say(`  (checked: this checkpoint with only the log's signature and ${w.name}'s ${parseNote(alone).signatures.length - 1} lines is REFUSED: ${aloneMembers} member(s) of the ${cp.quorum.k} needed)`);
}

/**
 * The ML-DSA-44 part of the accepted checkpoint: the log's 0x06 signature and each ML-DSA-44
 * witness's 0x06 cosignature line must be on it and verified by the client, or the demo fails.
 */
function reportPostQuantum(note: string, v: PolicyVerification, logVkey: string, pqWitnesses: readonly LaunchedWitness[], cp: ClientPolicy): void {
  const lines = parseNote(note).signatures;
  say(`  the accepted checkpoint is ${new TextEncoder().encode(note).length} bytes with ${lines.length} signature lines; the client checked:`);
  if (isMlDsa(logVkey)) {
    if (!v.logVerified || v.log?.vkey !== logVkey) throw new DemoFailure('the client did not verify the log\'s ML-DSA-44 signature');
    const lv = parseVkey(logVkey);
    say(`  log signature ${lv.name}+${formatKeyId(lv.keyId)}: ML-DSA-44 subtree/v1 (0x06) VERIFIED with the log's 0x06 vkey`);
  }
  for (const w of pqWitnesses) {
    // Every ML-DSA-44 key of the witness, by its name in the policy (the witness's own, or <name>-ml-dsa-44 for a witness with several keys).
    for (const key of cp.members.find((m) => m.name === w.name)!.keys.filter((x) => isMlDsa(x.vkey))) {
      const r = v.witnesses.find((x) => x.name === key.name);
      const wv = parseVkey(key.vkey);
      const id = `${wv.name}+${formatKeyId(wv.keyId)}`;
      if (r?.status !== 'verified' || r.key !== id || !lines.some((l) => l.name === wv.name && l.keyId === wv.keyId)) {
        throw new DemoFailure(`the accepted checkpoint does not carry a verified ML-DSA-44 cosignature of ${w.name} (${r?.status ?? 'not in the policy'})`);
      }
      say(`  ${w.name}'s cosignature ${id}: ML-DSA-44 subtree/v1 (0x06) VERIFIED (timestamp ${r.timestamp})`);
    }
  }
}

/** The status page as a browser shows it (dev dependency, loaded only for --screenshot). */
async function screenshot(url: string, out: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    await page.goto(url);
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
}

function pressEnter(prompt: string): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    rl.question(prompt, () => {
      rl.close();
      resolve();
    });
    rl.on('SIGINT', () => {
      rl.close();
      process.emit('SIGINT');
    });
  });
}

async function main(): Promise<number> {
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping every process and removing the temporary directory…`);
    void stopNetwork().then(() => {
      say('stopped');
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const overall = setTimeout(() => {
    if (!unattended || stopping) return;
    say(`FAILED: the demo did not finish within ${BUDGET_MS / 1000} s`);
    stopping = true;
    void stopNetwork().then(() => process.exit(1));
  }, BUDGET_MS);
  overall.unref();
  try {
    await story();
  } catch (e) {
    if (e instanceof Stopped || stopping) return new Promise<number>(() => {}); // the signal handler exits
    say(`FAILED: ${e instanceof DemoFailure ? e.message : ((e as Error).stack ?? String(e))}`);
    await stopNetwork();
    return 1;
  }
  if (unattended && !process.argv.includes('--keep-running')) {
    await stopNetwork();
    say('stopped the network; done');
    return 0;
  }
  say('The network keeps running: open the witness URLs above (/evidence, /metrics). Ctrl-C stops everything.');
  return new Promise<number>(() => {}); // until the signal handler exits
}

// Exit explicitly: idle keep-alive sockets of fetch would otherwise hold the process for a while.
process.exit(await main());
