// src/cli/tools.ts in a clone of the repository: simulate and launch load from the sources (the
// packed node package, without them, is covered by test/package/pack.test.ts).
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { loadTool } from '../../src/cli/tools.js';

describe('tools subcommands from the sources', () => {
  it('simulate and launch register the real commands (their own flags, not a placeholder)', async () => {
    const program = new Command();
    (await loadTool('simulate'))(program);
    (await loadTool('launch'))(program);
    const flags = (name: string) => program.commands.find((c) => c.name() === name)!.options.map((o) => o.long);
    expect(flags('simulate')).toEqual(expect.arrayContaining(['--out', '--sweep', '--live']));
    expect(flags('launch')).toEqual(expect.arrayContaining(['--network', '--prepare']));
    expect(program.commands.map((c) => c.description()).join('\n')).not.toContain('needs @gossip-witness/tools');
  });
});
