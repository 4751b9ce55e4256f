// Every signed-note vector in the fixtures, checked against Go's note.Open semantics.
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { openNote, parseVkey, parseCosignatureVkey, NoteError, keyLabel, type Verifier } from '../../src/note/index.js';

interface Expect {
  result: 'valid' | 'reject';
  verified?: string[];
  unverified?: string[];
  error?: string;
}

function check(note: string | Uint8Array, verifiers: Verifier[], expect: Expect) {
  if (expect.result === 'valid') {
    const opened = openNote(note, verifiers);
    expect_(opened.verified.map((s) => keyLabel(s.name, s.keyId))).toEqual(expect.verified);
    if (expect.unverified) expect_(opened.unverified.map((s) => keyLabel(s.name, s.keyId))).toEqual(expect.unverified);
  } else {
    let err: unknown;
    try {
      openNote(note, verifiers);
    } catch (e) {
      err = e;
    }
    expect_(err).toBeInstanceOf(NoteError);
    expect_((err as Error).message).toBe(expect.error);
  }
}
const expect_ = expect;

describe('golang.org/x/mod note vectors', () => {
  const f = fixture('signed-note-golang-x-mod.json');
  for (const v of f.open_vectors) {
    it(`Open: ${v.name}`, () => {
      let note: string | Uint8Array = v.note;
      if (v.note_base64) note = new Uint8Array(Buffer.from(v.note_base64, 'base64'));
      if (v.note_construction) {
        const c = v.note_construction;
        note = c.text + c.blank_line + c.signature_line.repeat(c.repeat);
      }
      check(note, v.verifier_keys.map(parseVkey), v.expect);
    });
  }
  it('accepts exactly 100 signature lines (the limit is "more than 100")', () => {
    const c = f.open_vectors.find((v: any) => v.note_construction).note_construction;
    const opened = openNote(c.text + c.blank_line + c.signature_line.repeat(100), [parseVkey(f.keys[0].vkey)]);
    expect(opened.verified).toHaveLength(1);
  });
  for (const v of f.verifier_list_vectors) {
    it(`verifier lookup ${v.lookup.join('+')} -> ${v.expect}`, async () => {
      const { VerifierSet } = await import('../../src/note/note.js');
      const set = new VerifierSet(v.verifiers.map(parseVkey));
      const name = v.lookup_name_override ?? v.lookup[0];
      const id = parseInt(v.lookup[1], 16);
      if (v.expect.startsWith('error: unknown key')) {
        expect(set.lookup(name, id)).toBeUndefined();
        expect(v.expect).toBe(`error: unknown key ${name}+${v.lookup[1]}`);
      } else if (v.expect.startsWith('error: ambiguous')) {
        expect(() => set.lookup(name, id)).toThrow(v.expect.slice('error: '.length));
      } else {
        expect(set.lookup(name, id)?.name).toBe(name);
      }
    });
  }
});

describe('C2SP signed-note example', () => {
  const f = fixture('signed-note-c2sp-example.json');
  for (const v of f.vectors) {
    it(v.name, () => {
      if (v.expect.result === 'reject-vkey') {
        expect(() => v.verifier_keys.map(parseVkey)).toThrow(/key ID/);
        return;
      }
      check(v.note, v.verifier_keys.map(parseVkey), v.expect);
    });
  }
  it('key ID derivation', () => {
    const d = f.key_id_derivation;
    const v = parseVkey(f.vectors[0].verifier_keys[0]);
    expect(v.name).toBe(d.name);
    expect(v.keyId.toString(16).padStart(8, '0')).toBe(d.key_id_hex);
    expect(Buffer.from(v.key).toString('hex')).toBe(d.pubkey_hex);
  });
});

describe('real checkpoints', () => {
  const sumdb = fixture('checkpoints-go-sumdb-real.json');
  for (const v of sumdb.vectors) {
    it(`sumdb: ${v.name ?? v.tree_size ?? 'cosigned'}`, () => {
      check(v.note, (v.verifier_keys ?? [v.verifier_key]).map(parseVkey), v.expect);
    });
  }
  const rekor = fixture('checkpoints-rekor-real.json');
  for (const v of rekor.vectors) {
    it(`rekor v1 (ECDSA 0x02): ${v.case}`, () => check(v.note, [parseVkey(v.verifier_key)], v.expect));
  }
  const rekor2 = fixture('checkpoints-rekor-v2-staging.json');
  for (const v of rekor2.vectors) {
    it(`rekor v2 staging: ${v.case}`, () => check(v.note, [parseVkey(rekor2.log_vkey)], v.expect_with_log_vkey_only));
  }
  const ct = fixture('checkpoints-static-ct-real.json');
  for (const v of ct.vectors) {
    it(`static CT (RFC 6962 0x05): ${v.name}`, () => check(v.note ?? v.expect_checkpoint, [parseVkey(v.verifier_key)], v.expect));
  }
  const armory = fixture('armory-drive-log-real.json');
  for (const v of armory.checkpoints) {
    it(`Armory Drive size ${v.tree_size}`, () => check(v.note, [parseVkey(armory.log_vkey)], v.expect));
  }
});

describe('cosigned checkpoints', () => {
  const groups = fixture('cosignatures.json').groups;
  const sigsum = groups[0];
  sigsum.vectors.forEach((v: any, i: number) => {
    it(`sigsum-go cosignature vector ${i}`, () => check(v.note, [parseVkey(sigsum.cosigner_vkey_derived)], v.expect));
  });
  const aw = groups[1];
  aw.vectors.forEach((v: any, i: number) => {
    it(`Armored Witness production checkpoint ${i}: 0x01-published keys verify their 0x04 cosignatures`, () => {
      const witnesses = aw.witness_vkeys_as_published_type01.map(parseCosignatureVkey);
      expect(witnesses.map((w: Verifier) => w.vkey)).toEqual(aw.witness_cosignature_vkeys_derived_type04);
      check(v.note, [parseVkey(v.log_vkey), ...witnesses], v.expect_with_log_and_all_witness_cosig_vkeys);
      check(v.note, [parseVkey(v.log_vkey)], v.expect_with_only_log_vkey);
    });
  });
  const staging = groups[2];
  it('staging checkpoint cosigned by three public witnesses', () => {
    check(staging.note, [staging.log_vkey, ...staging.witness_vkeys].map(parseVkey), staging.expect);
  });
  for (const n of staging.derived_negatives) {
    it(`staging negative: ${n.name}`, () => check(n.note, [staging.log_vkey, ...staging.witness_vkeys].map(parseVkey), n.expect));
  }
});
