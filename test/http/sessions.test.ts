// Replays recorded witness sessions from test/fixtures through the HTTP layer; every answer must
// match the spec column (expect_status_spec / the derived session's expect_status).
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { makeWitness, type TestWitness } from './helpers.js';
import { openNote, parseCosignatureVkey, formatKeyId } from '../../src/note/index.js';
import { readU32be } from '../../src/util/bytes.js';

let w: TestWitness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

interface Step {
  request_body: string;
  expect_status_spec?: number;
  expect_status?: number;
  expect_body?: string;
  expect_content_type?: string;
  comment?: string;
  desc?: string;
}

/** The note text a request body carries (after the header's blank line, up to the note's own). */
function noteText(body: string): string {
  const note = body.slice(body.indexOf('\n\n') + 2);
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

async function expectAnswer(w: TestWitness, step: Step, want: number, label: string, witnessVkey?: string): Promise<void> {
  const r = await w.post(step.request_body);
  expect(r.statusCode, `${label}: ${r.body}`).toBe(want);
  if (want === 409 || step.expect_body !== undefined) {
    if (step.expect_body !== undefined) expect(r.body, label).toBe(step.expect_body);
    if (want === 409) expect(r.headers['content-type'], label).toBe('text/x.tlog.size');
  }
  if (step.expect_content_type) expect(r.headers['content-type'], label).toBe(step.expect_content_type);
  if (want === 200) {
    expect(r.body).toMatch(new RegExp(`^(\u2014 ${w.key.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\S+\n)+$`));
    if (witnessVkey) {
      const opened = openNote(noteText(step.request_body) + '\n' + r.body, [parseCosignatureVkey(witnessVkey)]);
      expect(opened.verified).toHaveLength(1);
    }
  }
}

describe('litewitness session (tlog-witness-session-litewitness.json)', () => {
  const fx = fixture('tlog-witness-session-litewitness.json');

  it('every step gets the spec status; 409 bodies are the witness size', async () => {
    w = makeWitness({ logs: [{ origin: fx.log.origin, vkeys: [fx.log.vkey] }], name: fx.witness.name });
    expect(fx.steps.length).toBeGreaterThan(5);
    for (const [i, step] of (fx.steps as Step[]).entries()) {
      await expectAnswer(w, step, step.expect_status_spec!, `step ${i} (${step.comment})`, w.key.cosignatureVkey);
      if (step.expect_status_spec === 200) expect((await w.store.getState(fx.log.origin))).toBeDefined();
    }
    // Ends at size 5.
    expect((await w.store.getState(fx.log.origin))!.size).toBe(5n);
  });

  it('the real sumdb checkpoint, whose origin differs from the key name', async () => {
    const s = fx.sumdb_step;
    w = makeWitness({ logs: [{ origin: s.config.origin, vkeys: [s.config.vkey] }], name: fx.witness.name });
    await expectAnswer(w, s, s.expect_status, 'sumdb step');
  });
});

describe('Armory Drive derived session (armory-drive-log-real.json)', () => {
  const fx = fixture('armory-drive-log-real.json');

  it('every step gets the spec status', async () => {
    w = makeWitness({ logs: [{ origin: fx.origin, vkeys: [fx.log_vkey] }] });
    for (const [i, step] of (fx.derived_witness_session.steps as Step[]).entries()) {
      await expectAnswer(w, step, step.expect_status!, `step ${i} (${step.comment})`, w.key.cosignatureVkey);
    }
    expect((await w.store.getState(fx.origin))!.size).toBe(2n);
  });
});

describe('transparency-dev/witness TestUpdate cases (tlog-witness-transparency-dev-witness.json)', () => {
  const fx = fixture('tlog-witness-transparency-dev-witness.json');
  const cases = fx.cases as (Step & { desc: string; initial_checkpoint_submitted_with_old_0?: string })[];

  it.each(cases.map((c) => [c.desc, c] as const))('%s', async (_desc, c) => {
    // The test witness key: its cosignatures carry the cosignature/v1 key ID 24b37851.
    w = makeWitness({ logs: [{ origin: 'monkeys', vkeys: [fx.keys.log_vkey] }], witnessSkey: fx.keys.witness_skey });
    expect(w.key.cosignatureVkey).toBe(fx.keys.witness_cosignature_vkey_derived);
    if (c.initial_checkpoint_submitted_with_old_0) {
      const r = await w.post(`old 0\n\n${c.initial_checkpoint_submitted_with_old_0}`);
      expect(r.statusCode, r.body).toBe(200);
      const line = r.body.trim().split(' ')[2];
      expect(formatKeyId(readU32be(new Uint8Array(Buffer.from(line, 'base64')), 0))).toBe('24b37851');
    }
    await expectAnswer(w, c, c.expect_status_spec!, c.desc, fx.keys.witness_cosignature_vkey_derived);
  });
});
