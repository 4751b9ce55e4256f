// Validation of parsed config files (witness config, pull blocks, the launcher's network file, the
// simulator's scenarios) with valibot: one walk of the schema beside valibot's own parse, which
// finds what valibot does not report (every unknown key of a mapping, not just its first; the
// missing keys' own messages), and two ways of reporting the problems: validate() for the witness
// config, validateDotted() for the launcher and the simulator (see each).
// valibot is used because the witness pays for its validation library at idle (issue 14's
// <= 64 MiB RSS): `git log -- src/util/validate.ts` has the measurements.
import * as v from 'valibot';

export interface Problem {
  /** e.g. `p2p.listen[0]` (validate()) or `witnesses.0.push` (validateDotted()); "" for the value itself. */
  readonly path: string;
  readonly reason: string;
}

export type PathSegment = string | number;

/** One line per problem: `<what> <file>: <path>: <reason>` (the path left out when empty). */
export function formatProblems(what: string, file: string, problems: readonly Problem[]): string {
  return problems.map((p) => `${what} ${file}: ${p.path ? p.path + ': ' : ''}${p.reason}`).join('\n');
}

/** `a.b[0].c` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : (out === '' ? '' : '.') + seg;
  return out;
}

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A YAML mapping with exactly these keys. valibot's objects accept arrays, and its strict object
 * stops at the first unknown key; here an array is refused with `message` and validate() and
 * validateDotted() name every unknown key.
 */
export function mapping<const E extends v.ObjectEntries>(entries: E, message: string) {
  return v.pipe(v.custom<Record<string, unknown>>(isMapping, message), v.strictObject(entries, message));
}

/** A finite number: no NaN, no ±Infinity (valibot's number() takes ±Infinity; the old parser refused it). */
export const num = (message: string) => v.custom<number>((x) => typeof x === 'number' && Number.isFinite(x), message);

/** An integer, as the old parser had it: not one, no further checks; a safe one, else `message` and the further checks. */
export const int = (message: string) => v.pipe(v.custom<number>((x) => typeof x === 'number' && Number.isInteger(x), message), v.safeInteger(message));

/**
 * A mapping of any keys to `value`s. valibot's record() drops keys named constructor and prototype
 * silently; the old parser kept them (and dropped __proto__, as this does).
 */
export function record<const S extends v.GenericSchema>(value: S, message: string) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isMapping, message),
    v.transform((o) => new Map(Object.entries(o).filter(([k]) => k !== '__proto__'))),
    v.map(v.string(), value),
    v.transform((m) => Object.fromEntries(m) as Record<string, v.InferOutput<S>>),
  );
}

type SchemaNode = v.GenericSchema & {
  type: string;
  wrapped?: SchemaNode;
  entries?: Record<string, SchemaNode>;
  item?: SchemaNode;
  value?: SchemaNode;
  options?: SchemaNode[];
  pipe?: SchemaNode[];
};
type Issue = v.BaseIssue<unknown>;

const OBJECTS = new Set(['strict_object', 'object', 'loose_object']);
/** Wrappers that let a key be absent (valibot reports no missing key for them). */
const OPTIONAL = new Set(['optional', 'exact_optional', 'nullish']);

/** The structural schema under optional(), nullish(), nullable() and pipe() (mapping() and record() are pipes): an object, array, map or union. */
function structural(schema: SchemaNode): SchemaNode {
  let s = schema;
  for (;;) {
    if (s.wrapped && (OPTIONAL.has(s.type) || s.type === 'nullable')) s = s.wrapped;
    else {
      // A pipe's schema after its first (mapping(): the strict object), else its first (a pipe on a pipe).
      const inner = s.pipe?.find((p, i) => i > 0 && p.kind === 'schema') ?? s.pipe?.[0];
      if (!inner) return s;
      s = inner;
    }
  }
}

const idOf = (path: readonly PathSegment[]) => JSON.stringify(path);
const issuePath = (issue: Issue): PathSegment[] => (issue.path ?? []).map((p) => p.key as PathSegment);
/** valibot's strict object reports its first unknown key so (the walk finds all of them). */
const isUnknownKey = (issue: Issue) => issue.expected === 'never' && issue.path?.[issue.path.length - 1]?.origin === 'key';

interface Found {
  /** Each mapping's unknown keys, by id of its path, in the order the walk meets them. */
  readonly unknown: Map<string, { readonly path: PathSegment[]; readonly keys: string[] }>;
  /** The schema of each missing key, by id of its path. */
  readonly missing: Map<string, SchemaNode>;
  /** A union whose chosen option fits but for unknown keys: that option's other problems, by id of the union's path. */
  readonly unions: Map<string, { readonly path: PathSegment[]; readonly reason: string }[]>;
}
const found = (): Found => ({ unknown: new Map(), missing: new Map(), unions: new Map() });

function walk(schema: SchemaNode, raw: unknown, path: PathSegment[], out: Found): void {
  const s = structural(schema);
  if (s.entries && OBJECTS.has(s.type) && isMapping(raw)) {
    if (s.type === 'strict_object') {
      const keys = Object.keys(raw).filter((k) => !Object.hasOwn(s.entries!, k));
      if (keys.length > 0) out.unknown.set(idOf(path), { path, keys });
    }
    for (const [k, sub] of Object.entries(s.entries)) {
      // `in`, as valibot tells a missing key.
      if (k in raw) walk(sub, raw[k], [...path, k], out);
      else if (!OPTIONAL.has(sub.type)) out.missing.set(idOf([...path, k]), sub);
    }
  } else if (s.type === 'array' && s.item && Array.isArray(raw)) raw.forEach((x, i) => walk(s.item!, x, [...path, i], out));
  else if (s.type === 'map' && s.value && isMapping(raw)) for (const [k, x] of Object.entries(raw)) walk(s.value, x, [...path, k], out);
  else if (s.type === 'union' && s.options) {
    const chosen = unionOption(s.options, raw, path);
    if (!chosen) return;
    for (const [id, u] of chosen.found.unknown) out.unknown.set(id, u);
    for (const [id, m] of chosen.found.missing) out.missing.set(id, m);
    for (const [id, u] of chosen.found.unions) out.unions.set(id, u);
    if (chosen.problems) out.unions.set(idOf(path), chosen.problems);
  }
}

/**
 * The option of a union whose unknown keys are reported, walked: none if some option takes raw
 * (then there are none). Else, of the options of raw's shape (a mapping's or a list's), those that
 * fit but for unknown keys (only value checks fail, e.g. a number out of range), or if none does,
 * all of them: the one with the fewest unknown keys; none if several tie (the union's message stands).
 */
function unionOption(options: SchemaNode[], raw: unknown, path: PathSegment[]): { found: Found; problems?: { path: PathSegment[]; reason: string }[] } | undefined {
  if (!isMapping(raw) && !Array.isArray(raw)) return undefined;
  const candidates: { found: Found; count: number; problems?: { path: PathSegment[]; reason: string }[] }[] = [];
  for (const o of options) {
    const r = v.safeParse(o, raw, { abortEarly: false });
    if (r.success) return undefined;
    const t = structural(o).type;
    if (Array.isArray(raw) ? t !== 'array' : !OBJECTS.has(t) && t !== 'map') continue;
    const f = found();
    walk(o, raw, path, f);
    let count = 0;
    for (const u of f.unknown.values()) count += u.keys.length;
    const issues = r.issues.filter((i) => !isUnknownKey(i));
    const fits = issues.every((i) => i.kind === 'validation');
    candidates.push({ found: f, count, ...(fits ? { problems: issues.map((i) => ({ path: [...path, ...issuePath(i)], reason: i.message })) } : {}) });
  }
  const pool = candidates.some((c) => c.problems) ? candidates.filter((c) => c.problems) : candidates;
  const fewest = Math.min(...pool.map((c) => c.count));
  const best = pool.filter((c) => c.count === fewest);
  return best.length === 1 ? best[0] : undefined;
}

/** How a validator reports (validate(), validateDotted()). */
interface Style {
  readonly path: (path: readonly PathSegment[]) => string;
  /** The problems for one mapping's unknown keys. */
  readonly unknown: (path: readonly PathSegment[], keys: readonly string[]) => Problem[];
  /** The reason for an issue that is not an unknown key (`missing`: the schema of a missing key at its path). */
  readonly reason: (issue: Issue, missing: SchemaNode | undefined) => string;
  /** Every unknown key before the other problems (else each where valibot met the mapping's first). */
  readonly unknownFirst: boolean;
  /** A union's message replaced by the problems of its option that fits but for unknown keys. */
  readonly unions: boolean;
}

type Result<S extends v.GenericSchema> = { ok: true; value: v.InferOutput<S> } | { ok: false; problems: Problem[] };

function report<S extends v.GenericSchema>(style: Style, schema: S, raw: unknown): Result<S> {
  const r = v.safeParse(schema, raw, { abortEarly: false });
  const f = found();
  walk(schema as unknown as SchemaNode, raw, [], f);
  if (r.success && f.unknown.size === 0) return { ok: true, value: r.output };
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (p: Problem) => {
    const id = `${p.path}\n${p.reason}`;
    if (!seen.has(id)) problems.push(p);
    seen.add(id);
  };
  const done = new Set<string>();
  const unknownAt = (id: string) => {
    const u = f.unknown.get(id);
    if (!u || done.has(id)) return;
    done.add(id);
    style.unknown(u.path, u.keys).forEach(add);
  };
  if (style.unknownFirst) for (const id of f.unknown.keys()) unknownAt(id);
  for (const issue of r.issues ?? []) {
    const path = issuePath(issue);
    const union = style.unions && issue.type === 'union' ? f.unions.get(idOf(path)) : undefined;
    if (isUnknownKey(issue)) unknownAt(idOf(path.slice(0, -1)));
    else if (union) {
      for (const p of union) add({ path: style.path(p.path), reason: p.reason });
      unknownAt(idOf(path));
    } else add({ path: style.path(path), reason: style.reason(issue, f.missing.get(idOf(path))) });
  }
  for (const id of f.unknown.keys()) unknownAt(id);
  return { ok: false, problems };
}

const BRACKETS: Style = {
  path: formatPath,
  unknown: (path, keys) => keys.map((k) => ({ path: formatPath([...path, k]), reason: 'unknown key' })),
  reason: (issue) => {
    const last = issue.path?.[issue.path.length - 1];
    return last !== undefined && (last.origin === 'key' || last.value === undefined) ? 'required' : issue.message;
  },
  unknownFirst: true,
  unions: false,
};

const DOTTED: Style = {
  path: (path) => path.join('.'),
  unknown: (path, keys) => [{ path: path.join('.'), reason: `Unrecognized key${keys.length > 1 ? 's' : ''}: ${keys.map((k) => JSON.stringify(k)).join(', ')}` }],
  reason: (issue, missing) => (issue.path?.[issue.path.length - 1]?.origin === 'key' ? ((missing && v.safeParse(missing, undefined).issues?.[0].message) ?? 'required') : issue.message),
  unknownFirst: false,
  unions: true,
};

/**
 * Validates raw with schema, reporting every problem: paths with brackets (`logs[0].vkeys[1]`),
 * each unknown key on its own (`unknown key`), a missing key as `required`, else the schema's message.
 */
export function validate<S extends v.GenericSchema>(schema: S, raw: unknown): Result<S> {
  return report(BRACKETS, schema, raw);
}

/**
 * Validates raw with schema, reporting every problem as the launcher's network file and the
 * simulator's scenarios always have (their users and tests read these messages): paths dotted
 * (`witnesses.0.push`), every unknown key of a mapping in one problem at the mapping
 * (`Unrecognized keys: "a", "b"`), a missing key with its own schema's message, and a union of
 * mappings with the problems of the option that fits but for unknown keys.
 */
export function validateDotted<S extends v.GenericSchema>(schema: S, raw: unknown): Result<S> {
  return report(DOTTED, schema, raw);
}
