// Lossless JSON reading: JSON.parse turns 18446744073709551615 into 18446744073709552000. Tree
// sizes are uint64 on the wire, so integer literals that are not safe JS integers become bigint.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const WS = /[ \t\n\r]*/y;

/**
 * Parses RFC 8259 JSON like JSON.parse (same errors: SyntaxError), except that integer literals
 * (no fraction, no exponent) outside the safe integer range are returned as bigint. Other numbers
 * are JS numbers. Objects are plain objects; a "__proto__" key is an own property, as with
 * JSON.parse. Duplicate keys: the last one wins.
 */
export function parseJsonLossless(text: string): JsonValue {
  if (typeof text !== 'string') throw new TypeError('parseJsonLossless: text must be a string');
  let pos = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at position ${pos}`);
  };
  const ws = () => {
    WS.lastIndex = pos;
    WS.exec(text);
    pos = WS.lastIndex;
  };

  const parseString = (): string => {
    // pos is at the opening quote; find the closing one, then let JSON.parse decode escapes.
    const start = pos;
    let i = pos + 1;
    for (;;) {
      if (i >= text.length) {
        pos = i;
        fail('unterminated string');
      }
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 2;
      else if (c < 0x20) {
        pos = i;
        fail('control character in string');
      } else i++;
    }
    pos = i + 1;
    return JSON.parse(text.slice(start, pos)) as string;
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected string key');
        const key = parseString();
        ws();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        const v = parseValue(depth + 1);
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const arr: JsonValue[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null || m[0] === '-' || m[0].length === 0) fail('unexpected token');
    const lit = m![0];
    pos += lit.length;
    if (m![1] === undefined && m![2] === undefined) {
      const n = Number(lit);
      return Number.isSafeInteger(n) ? n : BigInt(lit);
    }
    return Number(lit);
  };

  const v = parseValue(0);
  ws();
  if (pos !== text.length) fail('unexpected data after JSON value');
  return v;
}

const MAX_SIZE = (1n << 63n) - 1n;

/**
 * A tree size or leaf index from parsed JSON: a non-negative safe integer number, a bigint, or a
 * decimal string of digits. Must be in [0, 2^63-1]. Throws a RangeError naming `field` otherwise.
 */
export function toBigIntSize(value: unknown, field: string): bigint {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${field}: not an integer (or not exactly representable): ${value}`);
    n = BigInt(value);
  } else if (typeof value === 'string') {
    if (!/^[0-9]{1,20}$/.test(value)) throw new RangeError(`${field}: not a decimal integer: ${JSON.stringify(value).slice(0, 40)}`);
    n = BigInt(value);
  } else if (value === undefined) {
    throw new RangeError(`${field}: missing`);
  } else {
    throw new RangeError(`${field}: must be an integer or a decimal string`);
  }
  if (n < 0n || n > MAX_SIZE) throw new RangeError(`${field}: ${n} out of range [0, 2^63-1]`);
  return n;
}
