import { VirtError } from '../errors.js';
import { DEFAULT_XML_LIMITS, type XmlParseLimits } from './parse.js';
import { XmlElement, type XmlNode } from './tree.js';

/**
 * virtkit's XML parser: one strict pass (no DTDs or entity declarations,
 * only the five XML entities and character references, size/depth/element
 * limits, well-formed nesting, one root). fast-xml-parser accepts malformed
 * documents (mismatched end tags, trailing text, duplicate attributes)
 * unless its validator runs first, and the two passes made a domain define
 * slower than libvirt's; it stays as the tests' reference parser
 * (reference-parse.test-support.ts).
 */
export function scanXml(xml: string, what = 'XML document', limits: XmlParseLimits = {}): XmlElement {
  const lim = limits === undefined || Object.keys(limits).length === 0 ? DEFAULT_XML_LIMITS : { ...DEFAULT_XML_LIMITS, ...limits };
  if (typeof xml !== 'string') throw fail(what, 'document is not a string');
  if (xml.length > lim.maxBytes) throw fail(what, `document is ${xml.length} bytes, more than the limit of ${lim.maxBytes}`);
  return new Scanner(xml, what, lim).document();
}

function fail(what: string, message: string): VirtError {
  return new VirtError('XML_ERROR', `${what}: ${message}`, { origin: 'xml' });
}

const enum C {
  TAB = 9, LF = 10, CR = 13, SPACE = 32, BANG = 33, DQUOTE = 34, HASH = 35, AMP = 38, SQUOTE = 39,
  DASH = 45, SLASH = 47, COLON = 58, SEMI = 59, LT = 60, EQ = 61, GT = 62, QUEST = 63, LBRACKET = 91, RBRACKET = 93, UNDERSCORE = 95,
}

function isSpace(c: number): boolean {
  return c === C.SPACE || c === C.LF || c === C.TAB || c === C.CR;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === C.UNDERSCORE || c === C.COLON || c >= 0xc0;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === C.DASH || c === 46 || c === 0xb7;
}

function isForbidden(c: number): boolean {
  return (c < 0x20 && c !== C.TAB && c !== C.LF && c !== C.CR) || c === 0xfffe || c === 0xffff;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Scanner {
  private pos = 0;
  private elements = 0;

  constructor(
    private readonly s: string,
    private readonly what: string,
    private readonly lim: Required<XmlParseLimits>,
  ) {}

  private err(message: string): VirtError {
    const before = this.s.slice(0, this.pos);
    let line = 1;
    let last = -1;
    for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) {
      line++;
      last = i;
    }
    return fail(this.what, `malformed at line ${line}, column ${this.pos - last}: ${message}`);
  }

  document(): XmlElement {
    const s = this.s;
    let root: XmlElement | undefined;
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
    for (;;) {
      this.skipSpace();
      if (this.pos >= s.length) break;
      if (s.charCodeAt(this.pos) !== C.LT) {
        throw fail(this.what, root ? 'text after the root element' : 'text outside the root element');
      }
      const c = s.charCodeAt(this.pos + 1);
      if (c === C.QUEST) this.skipPi();
      else if (c === C.BANG) {
        if (s.startsWith('<!--', this.pos)) this.skipComment();
        else if (s.startsWith('<!DOCTYPE', this.pos) || s.startsWith('<!ENTITY', this.pos)) {
          throw fail(this.what, 'document type declarations (DTD) and entity declarations are not accepted');
        } else if (s.startsWith('<![CDATA[', this.pos)) throw fail(this.what, 'CDATA outside the root element');
        else throw this.err("unexpected '<!'");
      } else {
        if (root) {
          const name = this.peekName(this.pos + 1);
          throw fail(this.what, `more than one root element ('${root.name}' and '${name}')`);
        }
        root = this.element(1);
      }
    }
    if (!root) throw fail(this.what, s.trim() === '' ? 'document is empty' : 'no root element');
    return root;
  }

  private skipSpace(): void {
    const s = this.s;
    while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
  }

  private skipPi(): void {
    const end = this.s.indexOf('?>', this.pos + 2);
    if (end < 0) throw this.err('unterminated processing instruction');
    this.checkChars(this.pos, end);
    this.pos = end + 2;
  }

  private skipComment(): void {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) throw this.err('unterminated comment');
    this.checkChars(this.pos, end);
    this.pos = end + 3;
  }

  private checkChars(from: number, to: number): void {
    const s = this.s;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c >= 0xfffe) {
        if (isForbidden(c)) {
          throw fail(this.what, `character U+${c.toString(16).padStart(4, '0')} is not allowed in XML (offset ${i})`);
        }
      }
    }
  }

  private peekName(at: number): string {
    let end = at;
    while (end < this.s.length && isNameChar(this.s.charCodeAt(end))) end++;
    return this.s.slice(at, end);
  }

  private name(): string {
    const s = this.s;
    const start = this.pos;
    if (!isNameStart(s.charCodeAt(start))) throw this.err('expected a name');
    let p = start + 1;
    while (p < s.length && isNameChar(s.charCodeAt(p))) p++;
    this.pos = p;
    return s.slice(start, p);
  }

  /** At '<' of a start tag. */
  private element(depth: number): XmlElement {
    const s = this.s;
    this.pos++;
    const name = this.name();
    if (depth > this.lim.maxDepth) throw fail(this.what, `element '${name}' is nested deeper than the limit of ${this.lim.maxDepth}`);
    if (++this.elements > this.lim.maxElements) throw fail(this.what, `more than ${this.lim.maxElements} elements`);
    const attrs: Record<string, string> = {};
    for (;;) {
      const hadSpace = this.pos < s.length && isSpace(s.charCodeAt(this.pos));
      this.skipSpace();
      if (this.pos >= s.length) throw this.err(`unterminated start tag <${name}>`);
      const c = s.charCodeAt(this.pos);
      if (c === C.GT) {
        this.pos++;
        break;
      }
      if (c === C.SLASH) {
        if (s.charCodeAt(this.pos + 1) !== C.GT) throw this.err(`expected '>' after '/' in <${name}>`);
        this.pos += 2;
        return new XmlElement(name, attrs, []);
      }
      if (!hadSpace) throw this.err(`expected a space before an attribute in <${name}>`);
      const an = this.name();
      this.skipSpace();
      if (s.charCodeAt(this.pos) !== C.EQ) throw this.err(`attribute '${an}' of <${name}> has no value`);
      this.pos++;
      this.skipSpace();
      const q = s.charCodeAt(this.pos);
      if (q !== C.SQUOTE && q !== C.DQUOTE) throw this.err(`value of attribute '${an}' of <${name}> is not quoted`);
      const end = s.indexOf(q === C.SQUOTE ? "'" : '"', this.pos + 1);
      if (end < 0) throw this.err(`unterminated value of attribute '${an}' of <${name}>`);
      const raw = s.slice(this.pos + 1, end);
      if (raw.indexOf('<') >= 0) throw this.err(`'<' in the value of attribute '${an}' of <${name}>`);
      this.checkChars(this.pos + 1, end);
      if (Object.prototype.hasOwnProperty.call(attrs, an)) throw this.err(`attribute '${an}' of <${name}> is given twice`);
      attrs[an] = this.decode(raw, `attribute '${an}' of <${name}>`, true);
      this.pos = end + 1;
    }
    const children: XmlNode[] = [];
    let text = '';
    let hasElements = false;
    for (;;) {
      const lt = s.indexOf('<', this.pos);
      if (lt < 0) throw this.err(`element <${name}> is not closed`);
      if (lt > this.pos) {
        const raw = s.slice(this.pos, lt);
        if (raw.indexOf('>') >= 0 && raw.indexOf(']]>') >= 0) throw this.err(`']]>' in the text of <${name}>`);
        this.checkChars(this.pos, lt);
        text += this.decode(raw, `text of <${name}>`, false);
      }
      this.pos = lt;
      const c = s.charCodeAt(lt + 1);
      if (c === C.SLASH) {
        this.pos = lt + 2;
        const end = this.name();
        if (end !== name) throw this.err(`closing tag </${end}> does not match <${name}>`);
        this.skipSpace();
        if (s.charCodeAt(this.pos) !== C.GT) throw this.err(`expected '>' in </${name}>`);
        this.pos++;
        break;
      }
      if (c === C.BANG) {
        if (s.startsWith('<!--', lt)) {
          this.skipComment();
          continue;
        }
        if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) throw this.err('unterminated CDATA section');
          this.checkChars(lt + 9, end);
          text += s.slice(lt + 9, end);
          this.pos = end + 3;
          continue;
        }
        if (s.startsWith('<!DOCTYPE', lt) || s.startsWith('<!ENTITY', lt)) {
          throw fail(this.what, 'document type declarations (DTD) and entity declarations are not accepted');
        }
        throw this.err("unexpected '<!'");
      }
      if (c === C.QUEST) {
        this.skipPi();
        continue;
      }
      if (text) {
        children.push(text);
        text = '';
      }
      hasElements = true;
      children.push(this.element(depth + 1));
    }
    if (text) children.push(text);
    if (!hasElements) return new XmlElement(name, attrs, children);
    // Whitespace between child elements is layout, not content.
    const kept: XmlNode[] = [];
    for (const ch of children) if (typeof ch !== 'string' || ch.trim() !== '') kept.push(ch);
    return new XmlElement(name, attrs, kept);
  }

  private decode(raw: string, where: string, attr: boolean): string {
    if (attr) raw = normalizeAttrSpace(raw);
    let amp = raw.indexOf('&');
    if (amp < 0) return raw;
    let out = '';
    let from = 0;
    while (amp >= 0) {
      out += raw.slice(from, amp);
      const semi = raw.indexOf(';', amp + 1);
      if (semi < 0 || semi - amp > 33) throw fail(this.what, `${where}: unterminated character reference`);
      const ent = raw.slice(amp + 1, semi);
      const named = NAMED[ent];
      if (named !== undefined) out += named;
      else {
        let cp = NaN;
        if (/^#x[0-9a-fA-F]{1,6}$/.test(ent)) cp = parseInt(ent.slice(2), 16);
        else if (/^#[0-9]{1,7}$/.test(ent)) cp = parseInt(ent.slice(1), 10);
        if (Number.isNaN(cp)) {
          throw fail(this.what, `${where}: entity '&${ent};' is not defined (only the five XML entities and character references are accepted)`);
        }
        if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw fail(this.what, `${where}: invalid character reference '&${ent};'`);
        out += String.fromCodePoint(cp);
      }
      from = semi + 1;
      amp = raw.indexOf('&', from);
    }
    out += raw.slice(from);
    return out;
  }
}

/** XML attribute value normalisation: literal tabs and newlines read as spaces. */
function normalizeAttrSpace(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === C.TAB || c === C.LF || c === C.CR) return v.replace(/\r\n|[\t\n\r]/g, ' ');
  }
  return v;
}
