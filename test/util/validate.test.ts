// src/util/validate.ts: the one schema walk behind validate() (the witness config: bracket paths, an
// unknown key each, 'required') and validateDotted() (the launcher's network file and the
// simulator's scenarios: dotted paths, a mapping's unknown keys together, the missing key's own
// message), and the helpers the config schemas share.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { int, mapping, num, record, validate, validateDotted } from '../../src/util/validate.js';

// A union of two mappings, as the simulator's { fraction } | { nodes } and { k, n } | { group }.
const Sel = mapping(
  {
    sel: v.optional(
      v.union(
        [mapping({ fraction: num('must be a number') }, 'must be { fraction }'), mapping({ nodes: v.array(int('must be an integer'), 'must be a list'), note: v.optional(v.string()) }, 'must be { nodes }')],
        'must be { fraction } or { nodes }',
      ),
    ),
  },
  'must be a mapping',
);

const Net = mapping(
  {
    name: v.string('must be a name'),
    logs: v.optional(v.array(mapping({ name: v.string('must be a name'), size: v.optional(int('must be a size')) }, 'must be a log mapping'), 'must be a list of logs')),
    gossip: v.optional(mapping({ version: v.optional(v.picklist([1, 2], 'must be 1 or 2')) }, 'must be a gossip mapping')),
    extra: v.nullish(v.pipe(mapping({ on: v.boolean('must be true or false') }, 'must be an extra mapping'), v.check(() => true, 'never'))),
    sees: v.optional(record(mapping({ branch: v.picklist(['a', 'b'], 'must be a or b') }, 'must be a branch mapping'), 'must be a mapping of names')),
  },
  'must be a mapping with a name',
);

describe('unions of mappings', () => {
  it('accepts a valid input for the second option (no spurious unknown keys from the first)', () => {
    expect(validate(Sel, { sel: { nodes: [1, 2] } })).toEqual({ ok: true, value: { sel: { nodes: [1, 2] } } });
    expect(validateDotted(Sel, { sel: { nodes: [1, 2], note: 'x' } })).toEqual({ ok: true, value: { sel: { nodes: [1, 2], note: 'x' } } });
  });

  it("names the unknown key of the second option's input, not the option's own keys", () => {
    expect(validate(Sel, { sel: { nodes: [1], bogus: 1 } })).toEqual({
      ok: false,
      problems: [
        { path: 'sel.bogus', reason: 'unknown key' },
        { path: 'sel', reason: 'must be { fraction } or { nodes }' },
      ],
    });
    // The dotted style reports the fitting option's problems instead of the union's message.
    expect(validateDotted(Sel, { sel: { nodes: [1], bogus: 1 } })).toEqual({ ok: false, problems: [{ path: 'sel', reason: 'Unrecognized key: "bogus"' }] });
    expect(validateDotted(Sel, { sel: { nodes: [1.5], bogus: 1 } })).toEqual({ ok: false, problems: [{ path: 'sel', reason: 'must be { fraction } or { nodes }' }, { path: 'sel', reason: 'Unrecognized key: "bogus"' }] });
  });

  it('without a fitting option, takes the one with the fewest unknown keys; none on a tie', () => {
    // { nodes: "x" } fits neither; the nodes option has one unknown key, the fraction option three.
    expect(validate(Sel, { sel: { nodes: 'x', note: 'n', bogus: 1 } })).toEqual({
      ok: false,
      problems: [
        { path: 'sel.bogus', reason: 'unknown key' },
        { path: 'sel', reason: 'must be { fraction } or { nodes }' },
      ],
    });
    // Both options fit but for one unknown key each: which one was meant is not known.
    expect(validate(Sel, { sel: { fraction: 0.5, nodes: [1] } })).toEqual({ ok: false, problems: [{ path: 'sel', reason: 'must be { fraction } or { nodes }' }] });
    expect(validateDotted(Sel, { sel: { fraction: 0.5, nodes: [1] } })).toEqual({ ok: false, problems: [{ path: 'sel', reason: 'must be { fraction } or { nodes }' }] });
  });
});

describe('unknown keys', () => {
  const raw = { name: 'n', colour: 1, logs: [{ name: 'l', sise: 1, kind: 2 }], extra: { on: true, off: false }, sees: { w1: { branch: 'a', leaf: 1 } } };

  it('validate() names each one with its bracket path, in every mapping (lists, nullish, pipes, records)', () => {
    expect(validate(Net, raw)).toEqual({
      ok: false,
      problems: [
        { path: 'colour', reason: 'unknown key' },
        { path: 'logs[0].sise', reason: 'unknown key' },
        { path: 'logs[0].kind', reason: 'unknown key' },
        { path: 'extra.off', reason: 'unknown key' },
        { path: 'sees.w1.leaf', reason: 'unknown key' },
      ],
    });
  });

  it("validateDotted() names all of a mapping's in one problem at the mapping", () => {
    expect(validateDotted(Net, raw)).toEqual({
      ok: false,
      problems: [
        { path: 'logs.0', reason: 'Unrecognized keys: "sise", "kind"' },
        { path: 'extra', reason: 'Unrecognized key: "off"' },
        { path: 'sees.w1', reason: 'Unrecognized key: "leaf"' },
        // Where valibot meets the first: after the mapping's values.
        { path: '', reason: 'Unrecognized key: "colour"' },
      ],
    });
  });

  it('are reported beside the other problems', () => {
    const bad = { name: 'n', logs: [{ name: 'l', size: 1.5, kind: 2 }], gossip: { version: 3 } };
    expect(validate(Net, bad)).toEqual({
      ok: false,
      problems: [
        { path: 'logs[0].kind', reason: 'unknown key' },
        { path: 'logs[0].size', reason: 'must be a size' },
        { path: 'gossip.version', reason: 'must be 1 or 2' },
      ],
    });
    expect(validateDotted(Net, bad)).toEqual({
      ok: false,
      problems: [
        { path: 'logs.0.size', reason: 'must be a size' },
        { path: 'logs.0', reason: 'Unrecognized key: "kind"' },
        { path: 'gossip.version', reason: 'must be 1 or 2' },
      ],
    });
  });
});

describe('a list where a mapping belongs', () => {
  it("is refused with the mapping's message (valibot's objects take arrays)", () => {
    expect(validate(Net, { name: 'n', gossip: [{ version: 1 }] })).toEqual({ ok: false, problems: [{ path: 'gossip', reason: 'must be a gossip mapping' }] });
    expect(validate(Net, { name: 'n', logs: [['l']] })).toEqual({ ok: false, problems: [{ path: 'logs[0]', reason: 'must be a log mapping' }] });
    expect(validateDotted(Net, { name: 'n', logs: [['l']] })).toEqual({ ok: false, problems: [{ path: 'logs.0', reason: 'must be a log mapping' }] });
    expect(validateDotted(Net, [{ name: 'n' }])).toEqual({ ok: false, problems: [{ path: '', reason: 'must be a mapping with a name' }] });
    expect(validateDotted(Net, { name: 'n', sees: ['w1'] })).toEqual({ ok: false, problems: [{ path: 'sees', reason: 'must be a mapping of names' }] });
  });
});

describe('a missing key', () => {
  it("is 'required' in validate(), its own schema's message in validateDotted()", () => {
    expect(validate(Net, { logs: [{ size: 1 }] })).toEqual({
      ok: false,
      problems: [
        { path: 'name', reason: 'required' },
        { path: 'logs[0].name', reason: 'required' },
      ],
    });
    expect(validateDotted(Net, { logs: [{ size: 1 }] })).toEqual({
      ok: false,
      problems: [
        { path: 'name', reason: 'must be a name' },
        { path: 'logs.0.name', reason: 'must be a name' },
      ],
    });
  });
});

describe('the shared helpers', () => {
  it('num refuses ±Infinity and NaN; int refuses a fraction or an unsafe integer with its message', () => {
    for (const x of [Infinity, -Infinity, NaN, '1']) expect(v.safeParse(num('m'), x).success).toBe(false);
    expect(v.safeParse(num('m'), 1.5).output).toBe(1.5);
    expect(v.safeParse(int('m'), 1.5).issues?.map((i) => i.message)).toEqual(['m']);
    expect(v.safeParse(int('m'), 2 ** 53).issues?.map((i) => i.message)).toEqual(['m']);
    expect(v.safeParse(int('m'), -3).output).toBe(-3);
  });

  it('record keeps keys named constructor and prototype, and drops __proto__', () => {
    const raw = JSON.parse('{"constructor": "a", "prototype": "b", "__proto__": "a", "w": "b"}');
    expect(v.safeParse(record(v.picklist(['a', 'b']), 'm'), raw).output).toEqual({ constructor: 'a', prototype: 'b', w: 'b' });
    expect(v.safeParse(record(v.string(), 'm'), ['a']).issues?.map((i) => i.message)).toEqual(['m']);
  });
});
