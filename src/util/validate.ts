// Validation of parsed config files (witness config, pull blocks, the launcher's network file, the
// simulator's scenarios) with valibot, and one way of reporting what is wrong: every problem with
// its field path, each unknown key by name, a missing key as "required", else the schema's message.
// valibot replaced zod here because the witness pays for it at idle: bundled and minified, zod held
// about 4.6 MiB more RSS than valibot for the same small schema on Node 26 (issue 14's <= 64 MiB).
import * as v from 'valibot';

export interface Problem {
  /** e.g. `p2p.listen[0]`; "" for the value itself. */
  readonly path: string;
  readonly reason: string;
}

export type PathSegment = string | number;

/** `a.b[0].c` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : (out === '' ? '' : '.') + seg;
  return out;
}

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A YAML mapping with exactly these keys. valibot's objects accept arrays, and its strict object
 * stops at the first unknown key; here an array is refused with `message` and validate() names
 * every unknown key.
 */
export function mapping<const E extends v.ObjectEntries>(entries: E, message: string) {
  return v.pipe(v.custom<Record<string, unknown>>(isMapping, message), v.strictObject(entries, message));
}

type AnySchema = v.GenericSchema & { type: string; wrapped?: AnySchema; entries?: Record<string, AnySchema>; item?: AnySchema; options?: AnySchema[]; pipe?: AnySchema[] };

/** The structural schema under optional() and pipe(): the strict object, array or union. */
function structural(schema: AnySchema): AnySchema {
  let s = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (s.wrapped && (s.type === 'optional' || s.type === 'nullish' || s.type === 'exact_optional' || s.type === 'nullable')) s = s.wrapped;
    else if (s.pipe) {
      const inner = s.pipe.find((p, i) => i > 0 && p.kind === 'schema');
      if (!inner) return s;
      s = inner;
    } else return s;
  }
  return s;
}

function unknownKeys(schema: AnySchema, raw: unknown, path: PathSegment[], out: PathSegment[][]): void {
  const s = structural(schema);
  if ((s.type === 'strict_object' || s.type === 'object' || s.type === 'loose_object') && s.entries && isMapping(raw)) {
    if (s.type === 'strict_object') for (const k of Object.keys(raw)) if (!Object.hasOwn(s.entries, k)) out.push([...path, k]);
    for (const [k, sub] of Object.entries(s.entries)) if (Object.hasOwn(raw, k)) unknownKeys(sub, raw[k], [...path, k], out);
  } else if (s.type === 'array' && s.item && Array.isArray(raw)) {
    raw.forEach((x, i) => unknownKeys(s.item!, x, [...path, i], out));
  } else if (s.type === 'union' && s.options) {
    const want = Array.isArray(raw) ? 'array' : isMapping(raw) ? 'object' : '';
    const opt = s.options.find((o) => (want === 'array' ? structural(o).type === 'array' : want === 'object' && structural(o).type.endsWith('object')));
    if (opt) unknownKeys(opt, raw, path, out);
  }
}

/** Validates raw with schema, reporting every problem (see the module comment). */
export function validate<S extends v.GenericSchema>(schema: S, raw: unknown): { ok: true; value: v.InferOutput<S> } | { ok: false; problems: Problem[] } {
  const unknown: PathSegment[][] = [];
  unknownKeys(schema as unknown as AnySchema, raw, [], unknown);
  const r = v.safeParse(schema, raw, { abortEarly: false });
  if (r.success && unknown.length === 0) return { ok: true, value: r.output };
  const problems: Problem[] = unknown.map((p) => ({ path: formatPath(p), reason: 'unknown key' }));
  const seen = new Set(problems.map((p) => `${p.path}\n${p.reason}`));
  for (const issue of r.issues ?? []) {
    const path = (issue.path ?? []).map((p) => p.key as PathSegment);
    const last = issue.path?.[issue.path.length - 1];
    // valibot's own unknown-key issue (the first one only): already listed above.
    if (issue.expected === 'never' && last?.origin === 'key') continue;
    const missing = last !== undefined && last.origin === 'key' ? true : path.length > 0 && last?.value === undefined;
    const p = { path: formatPath(path), reason: missing ? 'required' : issue.message };
    const id = `${p.path}\n${p.reason}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(p);
  }
  return { ok: false, problems };
}
