/**
 * A validating single-pass scanner for the common record shape: one JSON object whose top-level members
 * the engine needs only as (key, type, number). It reads the UTF-8 bytes in place — no decode to a string,
 * no object, no string values — and checks the full JSON grammar on the way, nested values included.
 *
 * It answers "yes, here are the members" only when JSON.parse(bytes.toString()) would give an object with
 * those own keys, in for-in order, with those types and numbers, provided no key repeats (the engine
 * checks that where it matters: a record whose keys differ from the previous one's). Anything it is not
 * sure of (escaped or integer-like keys, invalid input, a document that is not an object) gets `false`,
 * and the engine takes the JSON.parse path for that record: the verdict on odd input is JSON.parse's own.
 */
import { Code } from './codes';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Exact powers of ten: m·10^e and m/10^e round correctly for m < 2^53 and e ≤ 22 (Clinger's fast path). */
const POW10 = new Float64Array(23);
for (let e = 0, p = 1; e <= 22; e++, p *= 10) POW10[e] = p;
/** 15 significant digits always fit in the 53-bit mantissa exactly. */
const MAX_EXACT_DIGITS = 15;

/** JSON whitespace: space, tab, line feed, carriage return. */
const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;
/** Bytes that end the fast run inside a string: the quote, the backslash and control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = STRING_STOP[BACKSLASH] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** A copy of `a` with room for `size` entries. */
function grown<A extends Int32Array | Uint8Array | Float64Array>(a: A, size: number): A {
  const b = new (a.constructor as new (length: number) => A)(size);
  b.set(a);
  return b;
}

/** The top-level members of one record, as the field detectors take them: reused from record to record. */
export class Members {
  count = 0;
  /** Where each key's bytes lie in the message (scanned records only). */
  keyStart = new Int32Array(64);
  keyEnd = new Int32Array(64);
  /** Keys as text (parsed records, and scanned records whose keys did not follow the previous record's). */
  keys: string[] = [];
  /** Type codes (Code.Null … Code.Array). */
  codes = new Uint8Array(64);
  /** Per code: Number, the value; Boolean, 1 for true and 0 for false; String, 1 when it holds escapes. */
  numbers = new Float64Array(64);
  /** Where each value's bytes lie (scanned records only), read when a rule or a sample needs the value. */
  valueStart = new Int32Array(64);
  valueEnd = new Int32Array(64);

  /** Room for at least `n` members. */
  reserve(n: number): void {
    let size = this.codes.length;
    if (n <= size) return;
    while (size < n) size *= 2;
    this.keyStart = grown(this.keyStart, size);
    this.keyEnd = grown(this.keyEnd, size);
    this.codes = grown(this.codes, size);
    this.numbers = grown(this.numbers, size);
    this.valueStart = grown(this.valueStart, size);
    this.valueEnd = grown(this.valueEnd, size);
  }
}

export class RecordScanner {
  /** Open containers of the nested value being skipped: 1 for an object, 2 for an array. */
  private stack = new Uint8Array(64);
  /** Where the last string or value ended (one past its last byte). */
  private pos = 0;
  /** Whether the last string held an escape. */
  private escaped = false;
  private m: Members = new Members();

  /** Scans `b` as one JSON object into `m`. True when the members were read with certainty (see above). */
  scan(b: Uint8Array, m: Members): boolean {
    this.m = m;
    const n = b.length;
    let i = 0;
    while (i < n && WS[b[i]] === 1) i++;
    if (i >= n || b[i] !== OPEN_BRACE) return false;
    i++;
    while (i < n && WS[b[i]] === 1) i++;
    let count = 0;
    if (i < n && b[i] === CLOSE_BRACE) {
      i++;
    } else {
      for (;;) {
        // Key: a plain string (no escapes), not starting with a digit (integer-like keys reorder for-in).
        if (i >= n || b[i] !== QUOTE) return false;
        const ks = ++i;
        if (i < n && b[i] >= ZERO && b[i] <= NINE) return false;
        while (i < n && STRING_STOP[b[i]] === 0) i++;
        if (i >= n || b[i] !== QUOTE) return false;
        if (count === m.codes.length) m.reserve(count + 1);
        m.keyStart[count] = ks;
        m.keyEnd[count] = i;
        i++;
        while (i < n && WS[b[i]] === 1) i++;
        if (i >= n || b[i] !== COLON) return false;
        i++;
        while (i < n && WS[b[i]] === 1) i++;
        if (i >= n) return false;
        const c = b[i];
        let code: number;
        m.valueStart[count] = i;
        if (c === QUOTE) {
          this.escaped = false;
          if (!this.string(b, i + 1)) return false;
          m.numbers[count] = this.escaped ? 1 : 0;
          code = Code.String;
        } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
          if (!this.number(b, i, count)) return false;
          code = Code.Number;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          if (!this.nested(b, i)) return false;
          code = c === OPEN_BRACE ? Code.Object : Code.Array;
        } else if (c === 0x74 /* t */ && i + 3 < n && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
          this.pos = i + 4;
          m.numbers[count] = 1;
          code = Code.Boolean;
        } else if (c === 0x66 /* f */ && i + 4 < n && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
          this.pos = i + 5;
          m.numbers[count] = 0;
          code = Code.Boolean;
        } else if (c === 0x6e /* n */ && i + 3 < n && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
          this.pos = i + 4;
          code = Code.Null;
        } else {
          return false;
        }
        m.valueEnd[count] = this.pos;
        m.codes[count++] = code;
        i = this.pos;
        while (i < n && WS[b[i]] === 1) i++;
        if (i >= n) return false;
        if (b[i] === COMMA) {
          i++;
          while (i < n && WS[b[i]] === 1) i++;
          continue;
        }
        if (b[i] !== CLOSE_BRACE) return false;
        i++;
        break;
      }
    }
    while (i < n && WS[b[i]] === 1) i++;
    if (i !== n) return false;
    m.count = count;
    return true;
  }

  /** A string's body from `i` (just past the opening quote); sets pos past the closing quote. */
  private string(b: Uint8Array, i: number): boolean {
    const n = b.length;
    for (;;) {
      while (i < n && STRING_STOP[b[i]] === 0) i++;
      if (i >= n) return false;
      const c = b[i];
      if (c === QUOTE) {
        this.pos = i + 1;
        return true;
      }
      if (c !== BACKSLASH || i + 1 >= n) return false; // a raw control character, or a cut-off escape
      this.escaped = true;
      const e = b[i + 1];
      if (e === 0x75 /* u */) {
        if (i + 5 >= n || HEX[b[i + 2]] === 0 || HEX[b[i + 3]] === 0 || HEX[b[i + 4]] === 0 || HEX[b[i + 5]] === 0) return false;
        i += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 2;
      } else {
        return false;
      }
    }
  }

  /**
   * A number from `i`: checks the grammar -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? and stores its value, exact
   * by Clinger's fast path when it has at most 15 digits and a decimal exponent within ±22, else as
   * Number() reads the same characters (JSON's number grammar is a subset of it, both round correctly).
   */
  private number(b: Uint8Array, start: number, at: number): boolean {
    const n = b.length;
    let i = start;
    let negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
      if (i >= n) return false;
    }
    let m = 0;
    let digits = 0;
    let c = b[i];
    if (c === ZERO) {
      i++;
    } else if (c > ZERO && c <= NINE) {
      do {
        m = m * 10 + (c - ZERO);
        digits++;
        i++;
      } while (i < n && (c = b[i]) >= ZERO && c <= NINE);
    } else {
      return false;
    }
    let exp10 = 0;
    if (i < n && b[i] === DOT) {
      i++;
      const from = i;
      while (i < n && (c = b[i]) >= ZERO && c <= NINE) {
        // Leading zeros of a fraction (0.000123) add no significant digit.
        if (m !== 0 || c !== ZERO) digits++;
        m = m * 10 + (c - ZERO);
        i++;
      }
      if (i === from) return false;
      exp10 = from - i;
    }
    if (i < n && (b[i] | 0x20) === 0x65 /* e or E */) {
      i++;
      let expNegative = false;
      if (i < n && (b[i] === PLUS || b[i] === MINUS)) expNegative = b[i++] === MINUS;
      const from = i;
      let e = 0;
      while (i < n && (c = b[i]) >= ZERO && c <= NINE) {
        if (e < 100_000) e = e * 10 + (c - ZERO);
        i++;
      }
      if (i === from) return false;
      exp10 += expNegative ? -e : e;
    }
    this.pos = i;
    let x: number;
    if (digits <= MAX_EXACT_DIGITS && exp10 >= -22 && exp10 <= 22) {
      x = exp10 === 0 ? m : exp10 > 0 ? m * POW10[exp10] : m / POW10[-exp10];
      if (negative) x = -x;
    } else {
      let text = '';
      for (let k = start; k < i; k++) text += String.fromCharCode(b[k]);
      x = Number(text);
    }
    this.m.numbers[at] = x;
    return true;
  }

  /** Skips (and validates) an object or array starting at `i`; sets pos past its end. */
  private nested(b: Uint8Array, i: number): boolean {
    const n = b.length;
    let depth = 0;
    // Each container is checked as a small state machine: after an opener or a comma a value (or a key)
    // must follow; after a value, a comma or the closer.
    for (;;) {
      const c = b[i];
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === this.stack.length) this.growStack();
        this.stack[depth++] = c === OPEN_BRACE ? 1 : 2;
        i++;
        while (i < n && WS[b[i]] === 1) i++;
        if (i >= n) return false;
        const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
        if (b[i] === close) {
          depth--;
          i++;
        } else if (c === OPEN_BRACE) {
          if (!this.key(b, i)) return false;
          i = this.pos;
          continue;
        } else {
          continue; // a value follows at i
        }
      } else if (c === QUOTE) {
        if (!this.string(b, i + 1)) return false;
        i = this.pos;
      } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
        if (!this.skipNumber(b, i)) return false;
        i = this.pos;
      } else if (c === 0x74 && i + 3 < n && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
        i += 4;
      } else if (c === 0x66 && i + 4 < n && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
        i += 5;
      } else if (c === 0x6e && i + 3 < n && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        i += 4;
      } else {
        return false;
      }
      // A value ended at i (a scalar, or a container just closed): close, or go on after a comma.
      for (;;) {
        if (depth === 0) {
          this.pos = i;
          return true;
        }
        while (i < n && WS[b[i]] === 1) i++;
        if (i >= n) return false;
        const inObject = this.stack[depth - 1] === 1;
        const d = b[i];
        if (d === COMMA) {
          i++;
          while (i < n && WS[b[i]] === 1) i++;
          if (i >= n) return false;
          if (inObject) {
            if (!this.key(b, i)) return false;
            i = this.pos;
          }
          break;
        }
        if (d !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) return false;
        depth--;
        i++;
      }
    }
  }

  /** A nested member's key and colon from `i`; sets pos at the start of its value. */
  private key(b: Uint8Array, i: number): boolean {
    const n = b.length;
    if (b[i] !== QUOTE || !this.string(b, i + 1)) return false;
    i = this.pos;
    while (i < n && WS[b[i]] === 1) i++;
    if (i >= n || b[i] !== COLON) return false;
    i++;
    while (i < n && WS[b[i]] === 1) i++;
    if (i >= n) return false;
    this.pos = i;
    return true;
  }

  /** Checks a nested number's grammar only (its value is not needed). */
  private skipNumber(b: Uint8Array, i: number): boolean {
    const n = b.length;
    if (b[i] === MINUS && ++i >= n) return false;
    let c = b[i];
    if (c === ZERO) i++;
    else if (c > ZERO && c <= NINE) while (i < n && (c = b[i]) >= ZERO && c <= NINE) i++;
    else return false;
    if (i < n && b[i] === DOT) {
      const from = ++i;
      while (i < n && (c = b[i]) >= ZERO && c <= NINE) i++;
      if (i === from) return false;
    }
    if (i < n && (b[i] | 0x20) === 0x65) {
      i++;
      if (i < n && (b[i] === PLUS || b[i] === MINUS)) i++;
      const from = i;
      while (i < n && (c = b[i]) >= ZERO && c <= NINE) i++;
      if (i === from) return false;
    }
    this.pos = i;
    return true;
  }

  private growStack(): void {
    this.stack = grown(this.stack, this.stack.length * 2);
  }
}
