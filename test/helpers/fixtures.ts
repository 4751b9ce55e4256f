import { readFileSync } from 'node:fs';

/** Loads a JSON fixture from test/fixtures (copied from ../shared/vectors; see PROVENANCE.md). */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
