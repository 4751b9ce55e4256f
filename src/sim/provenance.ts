// Provenance of a simulator result (src/sim/result.ts): project version, commit, runtime.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provenance } from './result.js';

function packageRoot(): string | null {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  return null;
}

let cached: { version: string; commit: string | null } | undefined;

/** package.json version, and the commit from GIT_COMMIT or `git rev-parse HEAD` (null when neither works). */
export function projectVersion(): { version: string; commit: string | null } {
  if (cached) return cached;
  const root = packageRoot();
  let version = 'unknown';
  try {
    if (root) version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // keep unknown
  }
  let commit: string | null = process.env.GIT_COMMIT ?? null;
  if (!commit && root) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || null;
    } catch {
      commit = null;
    }
  }
  return (cached = { version, commit });
}

/** JSON with object keys sorted (a canonical form for hashing). */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (x && typeof x === 'object') return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((x as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(x ?? null);
}

/** sha256 (hex) of the canonical JSON of a parsed scenario: the scenario's identity in results. */
export function scenarioHash(scenario: unknown): string {
  return createHash('sha256').update(canonicalJson(scenario)).digest('hex');
}

export function makeProvenance(o: { seed: number; mode: 'model' | 'live'; scenarioFile: string | null; scenario: unknown; command?: string }): Provenance {
  const { version, commit } = projectVersion();
  return {
    version,
    commit,
    seed: o.seed,
    mode: o.mode,
    scenarioFile: o.scenarioFile,
    scenario: o.scenario,
    scenarioHash: scenarioHash(o.scenario),
    startedAt: new Date().toISOString(),
    runtime: `node ${process.version} ${process.platform}/${process.arch}`,
    ...(o.command ? { command: o.command } : {}),
  };
}
