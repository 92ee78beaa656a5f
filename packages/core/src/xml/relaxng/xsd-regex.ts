/**
 * XML Schema regular expressions (the `pattern` facet) as JavaScript RegExps.
 * The differences that matter: an XSD pattern always matches the whole value
 * (implicitly anchored), `^` and `$` are ordinary characters, `.` excludes
 * only newline and carriage return, `\i` / `\c` are XML name characters, a
 * class may subtract another (`[a-z-[aeiou]]`), and any escaped
 * non-alphanumeric character stands for itself.
 */

const NAME_START = 'A-Z_a-z:\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{2FF}\\u{370}-\\u{37D}\\u{37F}-\\u{1FFF}\\u{200C}-\\u{200D}\\u{2070}-\\u{218F}\\u{2C00}-\\u{2FEF}\\u{3001}-\\u{D7FF}\\u{F900}-\\u{FDCF}\\u{FDF0}-\\u{FFFD}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u{B7}\\u{300}-\\u{36F}\\u{203F}-\\u{2040}`;

export class XsdRegexError extends Error {}

const cache = new Map<string, RegExp>();

/** Compiles an XSD pattern, anchored, cached by its text. Throws XsdRegexError when it is not a valid pattern. */
export function xsdPatternToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = new Translator(pattern).translate();
    try {
      re = new RegExp(`^(?:${body})$`, 'u');
    } catch (err) {
      throw new XsdRegexError(`pattern '${pattern}' is not a regular expression this validator understands (${(err as Error).message})`);
    }
    cache.set(pattern, re);
  }
  return re;
}

function literal(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

class Translator {
  private pos = 0;
  constructor(private readonly src: string) {}

  translate(): string {
    let out = '';
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === '[') {
        out += this.charClass();
        continue;
      }
      if (c === '\\') {
        out += this.escape(false);
        continue;
      }
      if (c === '{') {
        const close = s.indexOf('}', this.pos);
        const q = close < 0 ? '' : s.slice(this.pos, close + 1);
        if (!/^\{[0-9]+(,[0-9]*)?\}$/.test(q)) fail(s, 'a malformed quantifier');
        out += q;
        this.pos = close + 1;
        continue;
      }
      this.pos++;
      if (c === '.') out += '[^\\n\\r]';
      else if (c === '^' || c === '$') out += '\\' + c;
      else if (c === '(') out += s[this.pos] === '?' ? fail(s, 'groups with "(?" are not XSD') : '(?:';
      else if (c === ']' || c === '}') out += '\\' + c;
      else out += c;
    }
    return out;
  }

  /** One escape at pos; `inClass` says whether it stands inside [...]. */
  private escape(inClass: boolean): string {
    const s = this.src;
    const e = s[this.pos + 1];
    if (e === undefined) fail(s, 'a trailing backslash');
    this.pos += 2;
    switch (e) {
      case 'n':
      case 'r':
      case 't':
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        return '\\' + e;
      case 'i':
        return inClass ? NAME_START : `[${NAME_START}]`;
      case 'c':
        return inClass ? NAME_CHAR : `[${NAME_CHAR}]`;
      case 'I':
        return inClass ? fail(s, '\\I inside a class') : `[^${NAME_START}]`;
      case 'C':
        return inClass ? fail(s, '\\C inside a class') : `[^${NAME_CHAR}]`;
      case 'p':
      case 'P': {
        const close = s.indexOf('}', this.pos);
        if (s[this.pos] !== '{' || close < 0) fail(s, `a malformed \\${e}{...}`);
        const prop = s.slice(this.pos + 1, close);
        this.pos = close + 1;
        if (prop.startsWith('Is')) fail(s, `Unicode block escapes (\\${e}{${prop}})`);
        return `\\${e}{${prop}}`;
      }
      default: {
        const cp = e.codePointAt(0)!;
        if (/[A-Za-z0-9]/.test(e)) fail(s, `the escape \\${e}`);
        return literal(cp);
      }
    }
  }

  /** A character class at pos, with XSD subtraction turned into a lookahead. */
  private charClass(): string {
    const s = this.src;
    this.pos++; // '['
    let negate = false;
    if (s[this.pos] === '^') {
      negate = true;
      this.pos++;
    }
    let body = '';
    let first = true;
    let subtract: string | undefined;
    for (;;) {
      if (this.pos >= s.length) fail(s, 'an unterminated character class');
      const c = s[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      if (c === '-' && s[this.pos + 1] === '[') {
        this.pos++;
        subtract = this.charClass();
        if (s[this.pos] !== ']') fail(s, 'a class subtraction that is not last in its class');
        this.pos++;
        break;
      }
      if (c === '\\') body += this.escape(true);
      else {
        const cp = s.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        // '-' is a range operator only between two characters; everything else literal.
        if (c === '-') body += '\\-';
        else body += literal(cp);
      }
      first = false;
      // Restore ranges: a literal '-' between two characters is a range.
      if (s[this.pos] === '-' && s[this.pos + 1] !== '[' && s[this.pos + 1] !== ']' && s[this.pos + 1] !== undefined) {
        this.pos++;
        if (s[this.pos] === '\\') body += '-' + this.escape(true);
        else {
          const cp = s.codePointAt(this.pos)!;
          this.pos += cp > 0xffff ? 2 : 1;
          body += '-' + literal(cp);
        }
      }
    }
    const cls = `[${negate ? '^' : ''}${body}]`;
    return subtract ? `(?:(?!${subtract})${cls})` : cls;
  }
}

function fail(pattern: string, what: string): never {
  throw new XsdRegexError(`pattern '${pattern}': ${what} is not supported`);
}
