import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import {
  parseVkey,
  parseSkey,
  parseCosignatureVkey,
  generateKey,
  isValidKeyName,
  ed25519KeyFromSeed,
  cosigner,
  KeyError,
  openNote,
  signNote,
  parseNote,
  NoteError,
} from '../../src/note/index.js';

describe('vkey parsing (vkey-parsing.json)', () => {
  for (const v of fixture('vkey-parsing.json').vectors) {
    it(`${v.expect}: ${v.vkey.slice(0, 60)}`, () => {
      if (v.expect === 'valid') {
        const k = parseVkey(v.vkey);
        expect(k.type).toBe(v.sig_type);
        expect(k.vkey).toBe(v.vkey);
      } else {
        // "invalid (strict)": the ML-DSA test vkey carries a key ID that does not match its key.
        expect(() => parseVkey(v.vkey)).toThrow(KeyError);
      }
    });
  }
  it('splits at the first two "+" only (base64 contains "+")', () => {
    const k = parseVkey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
    expect(k.name).toBe('sum.golang.org');
    expect(k.keyId).toBe(0x033de0ae);
  });
});

describe('published test key pairs (key-pairs-test.json)', () => {
  for (const p of fixture('key-pairs-test.json').pairs) {
    it(`skey ${p.skey.split('+')[2]} derives its vkey and cosignature vkey`, () => {
      const k = parseSkey(p.skey);
      expect(k.vkey).toBe(p.derived_vkey_from_skey);
      expect(k.skey).toBe(p.skey);
      expect(k.cosignatureVkey).toBe(p.cosignature_v1_vkey_derived);
      expect(parseCosignatureVkey(k.vkey).vkey).toBe(p.cosignature_v1_vkey_derived);
    });
  }
  it('rejects an skey whose key ID does not match', () => {
    const p = fixture('key-pairs-test.json').pairs[0];
    const bad = p.skey.replace(/\+([0-9a-f]{8})\+/, (_: string, id: string) => `+${(parseInt(id, 16) ^ 1).toString(16).padStart(8, '0')}+`);
    expect(() => parseSkey(bad)).toThrow(/key ID/);
  });
  it('rejects malformed skeys', () => {
    for (const s of ['', 'PRIVATE+KEY+', 'PRIVATE+KEYS+a+00000000+AQ==', 'PRIVATE+KEY+a b+00000000+AQ==', 'PRIVATE+KEY+a+0000000+AQ==', 'PRIVATE+KEY+a+00000000+!!!!', 'PRIVATE+KEY+a+00000000+AgAA']) {
      expect(() => parseSkey(s), s).toThrow(KeyError);
    }
  });
});

describe('key names', () => {
  it('follow Go isValidName: non-empty, no "+", no Unicode space', () => {
    expect(isValidKeyName('example.com/log')).toBe(true);
    expect(isValidKeyName('ünïcode')).toBe(true);
    for (const bad of ['', 'a+b', 'a b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\u0085b']) expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('signing', () => {
  const xmod = fixture('signed-note-golang-x-mod.json');
  for (const v of xmod.sign_vectors) {
    it(`Go note.Sign: ${v.name}`, () => {
      const key = parseSkey(v.signer_key);
      if (v.input_note) {
        const existing = openNote(v.input_note, [parseVkey(xmod.keys[0].vkey)]);
        expect(signNote(existing.text, [key], existing.verified)).toBe(v.expect_signed_note);
      } else {
        expect(signNote(v.text, [key])).toBe(v.expect_signed_note);
      }
    });
  }
  it('a new signature replaces an existing one by the same key', () => {
    const key = parseSkey(xmod.sign_vectors[0].signer_key);
    const once = signNote('hello\n', [key]);
    const twice = signNote('hello\n', [key], parseNote(once).signatures);
    expect(twice).toBe(once);
  });
  it('refuses text without a final newline or with control characters', () => {
    const key = generateKey('k');
    expect(() => signNote('no newline', [key])).toThrow(NoteError);
    expect(() => signNote('tab\there\n', [key])).toThrow(NoteError);
  });
  it('generated keys round-trip through skey/vkey strings', () => {
    const k = generateKey('witness.example/w1');
    expect(parseSkey(k.skey).vkey).toBe(k.vkey);
    const note = signNote('a\nb\n', [k]);
    expect(openNote(note, [parseVkey(k.vkey)]).verified).toHaveLength(1);
  });
});

describe('cosignature/v1', () => {
  const groups = fixture('cosignatures.json').groups;
  it('sigsum-go deterministic cosignature line', () => {
    const g = groups[0];
    const key = ed25519KeyFromSeed('example.org/witness', Buffer.from(g.cosigner_ed25519_seed_hex, 'hex'));
    expect(key.cosignatureVkey).toBe(g.cosigner_vkey_derived);
    const signed = signNote(g.checkpoint_body, [cosigner(key, () => BigInt(g.timestamp))]);
    expect(signed).toBe(`${g.checkpoint_body}\n${g.expect_cosignature_line}\n`);
  });
  const derived = groups[4];
  derived.vectors.forEach((v: any, i: number) => {
    it(`derived deterministic cosignature ${i}${v.checkpoint_body.split('\n').length > 4 ? ' (extension line is signed)' : ''}`, () => {
      const key = ed25519KeyFromSeed(derived.cosigner_name, Buffer.from(derived.cosigner_ed25519_seed_hex, 'hex'));
      expect(key.cosignatureVkey).toBe(derived.cosigner_vkey);
      const signed = signNote(v.checkpoint_body, [cosigner(key, () => BigInt(v.timestamp))]);
      expect(signed).toBe(`${v.checkpoint_body}\n${v.expect_cosignature_line.replace(/\n$/, '')}\n`);
      expect(openNote(signed, [parseVkey(derived.cosigner_vkey)]).verified).toHaveLength(1);
    });
  });
  it('timestamp extraction', async () => {
    const { cosignatureTimestamp } = await import('../../src/note/index.js');
    for (const v of groups[3].vectors) {
      const blob = Buffer.from(v.signature_base64, 'base64');
      if (v.expect_timestamp !== undefined) {
        expect(cosignatureTimestamp(new Uint8Array(blob.subarray(4)))).toBe(BigInt(v.expect_timestamp));
        if (v.expect_key_id_hex) expect(blob.subarray(0, 4).toString('hex')).toBe(v.expect_key_id_hex);
      } else {
        expect(() => cosignatureTimestamp(new Uint8Array(blob.subarray(4)))).toThrow();
      }
    }
  });
  it('refuses a zero timestamp when signing', () => {
    const key = generateKey('w');
    expect(() => signNote('o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [cosigner(key, () => 0n)])).toThrow(/timestamp/);
  });
});
