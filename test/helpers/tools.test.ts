// The skip-or-fail rule for external tools (test/helpers/tools.ts): a missing tool skips with its
// reason, or fails under INTEROP_REQUIRED=1; a program of the same name that is not the one
// expected (moreutils' parallel for GNU parallel) counts as missing.
import { describe, expect, it } from 'vitest';
import { commandMissing, fileMissing, tool } from './tools.js';

describe('external tools', () => {
  it('a command that does not exist, exits non-zero, or is another program is missing, with the install hint', () => {
    expect(commandMissing('gw-no-such-command-here', ['--version'], 'apt-get install nothing')).toMatch(/^gw-no-such-command-here not found or not working \(apt-get install nothing\): .*ENOENT/);
    expect(commandMissing('sh', ['-c', 'echo nope >&2; exit 3'], 'hint')).toMatch(/exit 3: nope/);
    expect(commandMissing('sh', ['-c', 'echo "other parallel"'], 'hint', /GNU parallel/)).toMatch(/another program than expected \(hint\): other parallel/);
    expect(commandMissing('sh', ['-c', 'echo "GNU parallel 20221122"'], 'hint', /GNU parallel/)).toBeUndefined();
    expect(fileMissing('/nonexistent/gw-tool', 'hint')).toBe('/nonexistent/gw-tool is missing (hint)');
  });

  it('missing: skipped with the reason in the title, unless required; then require() fails naming it', () => {
    const why = 'x is missing (hint)';
    const skipped = tool('x', why, false);
    expect(skipped.skip).toBe(true);
    expect(skipped.title('does a thing')).toBe('does a thing (SKIPPED: x is missing (hint))');
    const required = tool('x', why, true);
    expect(required.skip).toBe(false);
    expect(() => required.require()).toThrow('INTEROP_REQUIRED=1 but x is missing (hint)');
    const present = tool('x', undefined, true);
    expect(present.skip).toBe(false);
    expect(present.title('does a thing')).toBe('does a thing');
    expect(() => present.require()).not.toThrow();
  });
});
