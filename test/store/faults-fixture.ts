// Deterministic logs and keys shared by the fault-injection child and suite (test/store/faults*.ts).
import { TestLog } from '../helpers/fork.js';
import { ed25519KeyFromSeed, parseVkey, VerifierSet } from '../../src/note/index.js';
import type { LogRegistry, WitnessLog } from '../../src/witness/witness.js';
import { join } from 'node:path';

export const FAULT_ORIGINS = ['faults.example/a', 'faults.example/b'];

const seed = (n: number) => new Uint8Array(32).fill(n);

/** Fresh copies of the two logs (empty trees; leaves are deterministic: "main leaf <i>"). */
export function faultLogs(): TestLog[] {
  return FAULT_ORIGINS.map((o, i) => new TestLog(o, ed25519KeyFromSeed(o, seed(i + 1))));
}

export function faultWitnessKey() {
  return ed25519KeyFromSeed('faults.example/witness', seed(42));
}

export function registryOf(logs: TestLog[]): LogRegistry {
  const m = new Map<string, WitnessLog>(logs.map((l) => [l.origin, { origin: l.origin, verifiers: new VerifierSet([parseVkey(l.key.vkey)]) }]));
  return m;
}

/** The p2p identity key of a data directory (identityFileFor in src/gossip/service.ts). */
export const identityFile = (dir: string) => join(dir, 'p2p-identity.key');
