import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError, sigsumOrigin, POLICY_LIMITS, type PolicyErrorCode } from '../../src/policy/index.js';
import { ed25519KeyFromSeed, generateKey, parseVkey } from '../../src/note/index.js';
import { fromHex } from '../../src/util/bytes.js';
import { armored, policies, staging, stagingPolicy } from './helpers.js';

const [K1, K2, K3, K4] = Array.from({ length: 4 }, (_, i) => generateKey(`w${i}.example`));
const LOG = generateKey('example.com/log');

function policyError(text: string | Uint8Array, opts = {}): PolicyError {
  try {
    parsePolicy(text, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return e as PolicyError;
  }
  throw new Error(`policy parsed but should not have:\n${text}`);
}

describe('tlog-policy syntax', () => {
  it('parses the C2SP example structure (two levels of groups)', () => {
    const ks = Array.from({ length: 6 }, (_, i) => generateKey(`x${i}.example`));
    const text = policies.c2sp_tlog_policy_example.text
      .replace('log <vkey>', `log ${LOG.vkey}`)
      .replace(/witness (\S+) <vkey>/g, (_: string, name: string) => `witness ${name} ${ks[['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'].indexOf(name)].vkey}`);
    const p = parsePolicy(text, { strict: true });
    expect(p.dialect).toBe('tlog-policy');
    expect(p.logs.map((l) => l.origin)).toEqual(['example.com/log']);
    expect(p.witnesses.map((w) => w.name)).toEqual(['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3']);
    expect(p.groups.map((g) => [g.name, g.k, g.members])).toEqual([
      ['X-witnesses', 2, ['X1', 'X2', 'X3']],
      ['Y-witnesses', 1, ['Y1', 'Y2', 'Y3']],
      ['X-and-Y', 2, ['X-witnesses', 'Y-witnesses']],
    ]);
    expect(p.quorumName).toBe('X-and-Y');
    expect(p.quorum).toEqual({ kind: 'group', index: 2 });
    expect(p.quorumWitnesses()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('parses the staging policy; 0x01 witness vkeys become cosignature/v1 verifiers', () => {
    const p = parsePolicy(stagingPolicy(2));
    expect(p.witnesses.map((w) => w.verifier!.type)).toEqual([4, 4, 4]);
    const a = parsePolicy(`log ${armored.vectors[0].log_vkey}\nwitness a ${armored.witness_vkeys_as_published_type01[3]}\nquorum a\n`);
    // weathered-rain: published ea3d386d (0x01), signs as 0a78df20 (0x04).
    expect(a.witnesses[0].verifier!.vkey).toBe(armored.witness_cosignature_vkeys_derived_type04[3]);
  });

  it('whitespace is spaces and tabs; comments and blank lines; URLs; last line without newline', () => {
    const text = `# a comment\n\t  # an indented comment\n\n \tlog\t${LOG.vkey}   https://log.example/  \nwitness\tA ${K1.vkey}\thttps://w.example/a\n   \ngroup g any A\nquorum\t\tg`;
    const p = parsePolicy(text);
    expect(p.logs[0].url).toBe('https://log.example/');
    expect(p.witnesses[0].url).toBe('https://w.example/a');
    expect(p.quorumName).toBe('g');
  });

  it('quorum none needs no witnesses; a witness can be the quorum directly', () => {
    expect(parsePolicy(`log ${LOG.vkey}\nquorum none\n`).quorum).toBeNull();
    expect(parsePolicy(`witness A ${K1.vkey}\nquorum A\n`).quorum).toEqual({ kind: 'witness', index: 0 });
  });

  // tlog-policy: a threshold is "written in decimal": leading zeros included.
  it('a threshold with a leading zero', () => {
    expect(parsePolicy(`witness A ${K1.vkey}\nwitness B ${K2.vkey}\ngroup g 02 A B\nquorum g\n`).groups[0].k).toBe(2);
  });

  it('names are opaque: non-ASCII UTF-8 names, no normalisation (K and the Kelvin sign differ)', () => {
    const p = parsePolicy(`witness K ${K1.vkey}\nwitness \u212a ${K2.vkey}\nwitness wïtness ${K3.vkey}\ngroup g 2 K \u212a wïtness\nquorum g\n`);
    expect(p.witnesses.map((w) => w.name)).toEqual(['K', '\u212a', 'wïtness']);
    // Non-UTF-8 octets in a comment are fine; in a name they are refused (names are UTF-8 here).
    const bytes = new Uint8Array([...new TextEncoder().encode('# caf'), 0xe9, 0x0a, ...new TextEncoder().encode(`witness A ${K1.vkey}\nquorum A\n`)]);
    expect(parsePolicy(bytes).witnesses[0].name).toBe('A');
    const bad = new Uint8Array([...new TextEncoder().encode('witness caf'), 0xe9, ...new TextEncoder().encode(` ${K1.vkey}\nquorum none\n`)]);
    expect(policyError(bad)).toMatchObject({ code: 'syntax', line: 1, message: expect.stringMatching(/line 1: not valid UTF-8/) });
  });

  it('supports at least 32 logs, 32 witnesses and 32 groups (nested 32 deep)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 32; i++) lines.push(`log ${generateKey(`log${i}.example`).vkey}`);
    for (let i = 0; i < 32; i++) lines.push(`witness w${i} ${generateKey(`w${i}.example`).vkey}`);
    lines.push('group g0 any w0');
    for (let i = 1; i < 32; i++) lines.push(`group g${i} any g${i - 1} w${i}`);
    lines.push('quorum g31');
    const p = parsePolicy(lines.join('\n'));
    expect([p.logs.length, p.witnesses.length, p.groups.length]).toEqual([32, 32, 32]);
    expect(p.quorumWitnesses()).toHaveLength(32);
  });
});

describe('Sigsum policy files', () => {
  it("parses Sigsum's builtin 2-of-3 production policy", () => {
    const p = parsePolicy(policies.sigsum_policy.raw);
    expect(p.dialect).toBe('sigsum');
    expect(p.logs).toHaveLength(2);
    const key = fromHex('0ec7e16843119b120377a73913ac6acbc2d03d82432e2c36b841b09a95841f25')!;
    expect(p.logs[0].origin).toBe(sigsumOrigin(key));
    expect(p.logs[0].origin).toMatch(/^sigsum\.org\/v1\/tree\/[0-9a-f]{64}$/);
    // The log's note key name is its origin; the key is Ed25519.
    expect(p.logs[0].verifier.name).toBe(p.logs[0].origin);
    expect(p.logs[0].verifier.type).toBe(1);
    expect(p.logs[0].url).toBe('https://seasalp.glasklar.is');
    expect(p.witnesses.map((w) => w.name)).toEqual(['witness.glasklar.is', 'witness.mullvad.net', 'tillitis.se/tillitis-witness-1']);
    // Sigsum witness names are local labels: lines are matched by key ID, whatever their name.
    expect(p.witnesses.every((w) => w.verifier === undefined && w.publicKey.length === 32)).toBe(true);
    expect(p.anyNameWitnesses).toEqual([0, 1, 2]);
    expect(p.groups).toMatchObject([{ name: 'quorum-rule', k: 2, members: ['witness.glasklar.is', 'witness.mullvad.net', 'tillitis.se/tillitis-witness-1'] }]);
    expect(p.quorumName).toBe('quorum-rule');
  });

  it('Sigsum comments may follow the fields; strict mode and vkeys are refused in a Sigsum file', () => {
    const hex = 'b2106db9065ec97f25e09c18839216751a6e26d8ed8b41e485a563d3d1498536';
    const p = parsePolicy(`witness a ${hex} # the Glasklar witness\nquorum a # just one\n`);
    expect(p.dialect).toBe('sigsum');
    expect(policyError(`witness a ${hex}\nquorum a\n`, { strict: true })).toMatchObject({ code: 'syntax', message: expect.stringMatching(/strict mode/) });
    expect(policyError(`witness a ${hex}\nwitness b ${K1.vkey}\nquorum a\n`)).toMatchObject({ code: 'bad-key', line: 2 });
    expect(policyError(`witness a ${K1.vkey}\nwitness b ${hex}\nquorum a\n`)).toMatchObject({ code: 'bad-key', line: 2, message: expect.stringMatching(/hex key/) });
  });
});

describe('the origin extension', () => {
  const v = armored.vectors[0];
  const origin = v.note.split('\n')[0];

  it('an origin line names the checkpoint origin of the log above it (spaces allowed)', () => {
    const p = parsePolicy(`log ${v.log_vkey}\n# comment lines may come between\norigin ${origin}\nquorum none\n`);
    expect(p.logs[0]).toMatchObject({ origin, explicitOrigin: true });
    const q = parsePolicy(`log ${LOG.vkey}\norigin   go.sum database tree  \nquorum none\n`);
    expect(q.logs[0].origin).toBe('go.sum database tree');
    expect(q.logsForOrigin('go.sum database tree')).toHaveLength(1);
  });

  it('is refused in strict mode, away from a log line, twice, or empty', () => {
    expect(policyError(`log ${v.log_vkey}\norigin ${origin}\nquorum none\n`, { strict: true })).toMatchObject({ code: 'extension', line: 2 });
    expect(policyError(`origin x\nquorum none\n`)).toMatchObject({ code: 'extension', line: 1 });
    expect(policyError(`log ${LOG.vkey}\nwitness A ${K1.vkey}\norigin x\nquorum none\n`)).toMatchObject({ code: 'extension', line: 3 });
    expect(policyError(`log ${LOG.vkey}\norigin x\norigin y\nquorum none\n`)).toMatchObject({ code: 'extension', line: 3 });
    expect(policyError(`log ${LOG.vkey}\norigin \t \nquorum none\n`)).toMatchObject({ code: 'syntax', line: 2 });
  });
});

describe('bad policies give line-numbered, typed errors', () => {
  const w = (name: string, k = K1) => `witness ${name} ${k.vkey}`;
  const cases: [string, string, PolicyErrorCode, number, RegExp][] = [
    ['unknown keyword', `${w('A')}\nwitnesses B x\nquorum A\n`, 'syntax', 2, /unknown keyword "witnesses"/],
    ['log without key', `log\nquorum none\n`, 'syntax', 1, /log line needs a key/],
    ['log with extra fields', `log ${LOG.vkey} https://x extra\nquorum none\n`, 'syntax', 1, /log line/],
    ['witness without key', `witness A\nquorum A\n`, 'syntax', 1, /witness line needs a name, a key/],
    ['group without members', `${w('A')}\ngroup g 1\nquorum g\n`, 'syntax', 2, /at least one member/],
    ['quorum with two names', `${w('A')}\nquorum A A\n`, 'syntax', 2, /exactly one name/],
    ['vkey with a wrong key ID', `witness A ${K1.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')}\nquorum A\n`, 'bad-key', 1, /key ID 00000000 does not match/],
    ['vkey with bad base64', `log example.com+01234567+!!!!\nquorum none\n`, 'bad-key', 1, /bad base64/],
    ['log key of cosignature type', `log ${parseVkey(K1.cosignatureVkey).vkey}\nquorum none\n`, 'bad-key', 1, /signature type 0x04/],
    ['witness key of ECDSA type', `witness A ${armored.vectors[1].log_vkey}\nquorum A\n`, 'bad-key', 1, /must be Ed25519/],
    ['duplicate witness name', `${w('A')}\n${w('A', K2)}\nquorum A\n`, 'duplicate-name', 2, /"A" is already defined on line 1/],
    ['group named like a witness', `${w('A')}\ngroup A any A\nquorum A\n`, 'duplicate-name', 2, /"A" is already defined on line 1/],
    ['group that contains itself', `${w('A')}\ngroup g any A g\nquorum g\n`, 'forward-reference', 2, /group "g" refers to itself/],
    ['group name reused', `${w('A')}\n${w('B', K2)}\ngroup g any A\ngroup g any B\nquorum g\n`, 'duplicate-name', 4, /already defined on line 3/],
    ['redefining none', `witness none ${K1.vkey}\nquorum none\n`, 'duplicate-name', 1, /predefined/],
    ['none as a group member', `${w('A')}\ngroup g any A none\nquorum g\n`, 'unknown-name', 2, /"none" cannot be a group member/],
    ['the same key under two names', `${w('A')}\nwitness B ${ed25519KeyFromSeed('other.example', K1.seed).vkey}\nquorum A\n`, 'duplicate-key', 2, /same public key as the witness "A" on line 1/],
    ['the same key as 0x01 and as 0x04 vkey', `${w('A')}\nwitness B ${K1.cosignatureVkey}\nquorum A\n`, 'duplicate-key', 2, /same public key as the witness "A" on line 1/],
    ['the same key for two logs', `log ${LOG.vkey}\nlog ${LOG.vkey}\nquorum none\n`, 'duplicate-key', 2, /same public key as the log on line 1/],
    // Stricter than tlog-policy (which forbids duplicates within logs and within witnesses): a log must not witness itself.
    ['a log key used as a witness key', `log ${LOG.vkey}\nwitness A ${LOG.vkey}\nquorum A\n`, 'duplicate-key', 2, /same public key as the log on line 1/],
    ['unknown name in a group', `${w('A')}\ngroup g 1 A B\nquorum g\n`, 'unknown-name', 2, /"B" is not defined/],
    ['unknown quorum', `${w('A')}\nquorum X\n`, 'unknown-name', 2, /"X" is not defined/],
    ['forward reference', `${w('A')}\ngroup g any A h\ngroup h any g2\n${w('B', K2)}\ngroup g2 any B\nquorum g\n`, 'forward-reference', 2, /"h" is defined later, on line 3/],
    ['cycle', `${w('A')}\ngroup g any A h\ngroup h any g\nquorum h\n`, 'forward-reference', 2, /"h" is defined later.*cycles/],
    ['quorum before its group', `${w('A')}\nquorum g\ngroup g any A\n`, 'forward-reference', 2, /defined later, on line 3/],
    ['member listed twice in a group', `${w('A')}\ngroup g 1 A A\nquorum g\n`, 'duplicate-member', 2, /listed twice/],
    ['member of two groups', `${w('A')}\n${w('B', K2)}\ngroup g any A\ngroup h all A B\ngroup q all g h\nquorum q\n`, 'duplicate-member', 4, /already a member of group "g" \(line 3\)/],
    ['threshold 0', `${w('A')}\ngroup g 0 A\nquorum g\n`, 'syntax', 2, /threshold 0 is out of range/],
    ['threshold above n', `${w('A')}\n${w('B', K2)}\ngroup g 3 A B\nquorum g\n`, 'syntax', 3, /threshold 3 is out of range: the group has 2 members/],
    ['threshold word', `${w('A')}\ngroup g two A\nquorum g\n`, 'syntax', 2, /threshold must be/],
    ['negative threshold', `${w('A')}\ngroup g -1 A\nquorum g\n`, 'syntax', 2, /threshold must be/],
    ['no quorum', `${w('A')}\n`, 'quorum', 0, /no quorum line/],
    ['two quorums', `${w('A')}\nquorum A\nquorum none\n`, 'quorum', 3, /exactly one quorum line \(the first is on line 2\)/],
    ['CRLF line endings', `${w('A')}\r\nquorum A\r\n`, 'syntax', 1, /control character 0x0d \(CR/],
    ['NUL byte in a comment', `# \u0000\nquorum none\n`, 'syntax', 1, /control character 0x00/],
    ['vertical tab as whitespace', `witness\u000bA ${K1.vkey}\nquorum A\n`, 'syntax', 1, /control character 0x0b/],
    ['non-breaking space is not whitespace', `witness\u00a0A ${K1.vkey}\nquorum none\n`, 'syntax', 1, /unknown keyword/],
  ];
  it.each(cases)('%s', (_name, text, code, line, message) => {
    const e = policyError(text);
    expect(e.code).toBe(code);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
    if (line > 0) expect(e.message).toMatch(new RegExp(`^line ${line}: `));
  });

  it('refuses policies over the limits with a clear error, quickly', () => {
    const big = '#'.repeat(POLICY_LIMITS.bytes) + '\nquorum none\n';
    expect(policyError(big)).toMatchObject({ code: 'limit', line: 0 });
    const many = Array.from({ length: POLICY_LIMITS.witnesses + 1 }, (_, i) => `witness w${i} ${generateKey(`w${i}`).vkey}`).join('\n');
    expect(policyError(many + '\nquorum none\n')).toMatchObject({ code: 'limit', line: POLICY_LIMITS.witnesses + 1 });
  });

  it('garbage never crashes: random byte strings give PolicyError or a policy', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const words = ['log', 'witness', 'group', 'quorum', 'origin', 'none', 'any', 'all', '2', 'A', 'B', K1.vkey, LOG.vkey, '#', '\t', ' ', '\n', '\r', 'é'];
    for (let i = 0; i < 500; i++) {
      let s = '';
      const n = Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) s += words[Math.floor(rnd() * words.length)] + (rnd() < 0.7 ? ' ' : '');
      try {
        parsePolicy(s);
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyError);
      }
    }
  });

  it('the staging vectors: a 4-of-3 policy cannot even be written', () => {
    expect(policyError(stagingPolicy(4))).toMatchObject({ code: 'syntax', line: 5 });
    expect(staging.witness_vkeys).toHaveLength(3);
  });
});
