// External programs some tests need (promtool, GNU parallel, Debian's chromium, ...). Present: the
// tests run. Missing: they skip with the reason in the title and on stderr, unless
// INTEROP_REQUIRED=1 (.ci/run sets it once it has installed them): then a missing tool fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const INTEROP_REQUIRED = process.env.INTEROP_REQUIRED === '1';

/** Why `cmd args` is no use here (does not run, exits non-zero, or is another program than `match`), or undefined. */
export function commandMissing(cmd: string, args: string[], install: string, match?: RegExp): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return `${cmd} not found or not working (${install}): ${r.error?.message ?? `exit ${r.status}: ${(r.stderr ?? '').trim().slice(0, 200)}`}`;
  const out = `${r.stdout}${r.stderr}`;
  if (match && !match.test(out)) return `${cmd} is another program than expected (${install}): ${out.trim().split('\n')[0]}`;
  return undefined;
}

/** Why a file-system path is missing, or undefined. */
export function fileMissing(path: string, install: string): string | undefined {
  return existsSync(path) ? undefined : `${path} is missing (${install})`;
}

export interface Tool {
  readonly name: string;
  /** Why it is missing; undefined when present. */
  readonly why: string | undefined;
  /** Missing and not required: the tests that need it skip. */
  readonly skip: boolean;
  /** A test title, with " (SKIPPED: why)" when missing. */
  title(t: string): string;
  /** Throws `INTEROP_REQUIRED=1 but <why>` when missing: the first line of a test that needs it. */
  require(): void;
}

/** The tool named `name`, missing for `why` (from commandMissing/fileMissing); a skip is said on stderr. */
export function tool(name: string, why: string | undefined, required = INTEROP_REQUIRED): Tool {
  const skip = why !== undefined && !required;
  if (skip) console.warn(`${name}: tests that need it are skipped: ${why}`);
  return {
    name,
    why,
    skip,
    title: (t) => (why ? `${t} (SKIPPED: ${why})` : t),
    require: () => {
      if (why) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
    },
  };
}

/** A suite that needs t: body when present; else a skipped suite saying why, or under INTEROP_REQUIRED=1 one failing test. */
export function describeWithTool(t: Tool, title: string, body: () => void): void {
  if (!t.why) describe(title, body);
  else if (t.skip) describe.skip(t.title(title), () => it(`needs ${t.name}`, () => undefined));
  else describe(`${title} (needs ${t.name})`, () => it(`has ${t.name}`, () => t.require()));
}
