import { XmlElement } from './tree.js';

export type AttrValue = string | number | bigint | boolean | undefined | null;
/** Attributes in output order; undefined/null values are left out. */
export type Attrs = ReadonlyArray<readonly [string, AttrValue]> | Record<string, AttrValue>;

/**
 * Escapes text and attribute values as libvirt's virBufferEscapeString does:
 * the five markup characters become entities and C0 controls other than tab,
 * newline and carriage return are dropped.
 */
export function escapeXml(s: string): string {
  if (!/[<>&"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    switch (ch) {
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case '&': out += '&amp;'; break;
      case '"': out += '&quot;'; break;
      case "'": out += '&apos;'; break;
      default: {
        const c = ch.charCodeAt(0);
        if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
        out += ch;
      }
    }
  }
  return out;
}

function formatAttrs(attrs: Attrs | undefined, quote: "'" | '"' = "'"): string {
  if (!attrs) return '';
  let s = '';
  const entries = Array.isArray(attrs) ? (attrs as ReadonlyArray<readonly [string, AttrValue]>) : Object.entries(attrs);
  for (const [k, v] of entries) {
    if (v === undefined || v === null) continue;
    s += ` ${k}=${quote}${escapeXml(typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v))}${quote}`;
  }
  return s;
}

/**
 * Writes XML the way libvirt's virBuffer does: two-space indentation,
 * single-quoted attributes, `<x/>` for empty elements, text inline.
 */
export class XmlWriter {
  private readonly parts: string[] = [];
  private pad: string;

  /** `quote` '"' writes attributes as libxml2 dumps nodes (virsh's --xpath output). */
  constructor(indent = 0, private readonly quote: "'" | '"' = "'") {
    this.pad = ' '.repeat(indent);
  }

  get indentation(): number {
    return this.pad.length;
  }

  /** `<name attrs>` and indents what follows. */
  open(name: string, attrs?: Attrs): this {
    this.parts.push(`${this.pad}<${name}${formatAttrs(attrs)}>\n`);
    this.pad += '  ';
    return this;
  }

  close(name: string): this {
    this.pad = this.pad.slice(2);
    this.parts.push(`${this.pad}</${name}>\n`);
    return this;
  }

  /** `<name attrs/>`. */
  empty(name: string, attrs?: Attrs): this {
    this.parts.push(`${this.pad}<${name}${formatAttrs(attrs)}/>\n`);
    return this;
  }

  /** `<name attrs>text</name>`; nothing when text is undefined/null. */
  text(name: string, text: AttrValue, attrs?: Attrs): this {
    if (text === undefined || text === null) return this;
    this.parts.push(`${this.pad}<${name}${formatAttrs(attrs)}>${escapeXml(String(text))}</${name}>\n`);
    return this;
  }

  /**
   * libvirt's virXMLFormatElement: `<name attrs/>` without children,
   * `<name attrs>…</name>` with them, and nothing at all when there are
   * neither attributes nor children (unless `always`).
   */
  element(name: string, attrs: Attrs | undefined, body?: (w: XmlWriter) => void, always = false): this {
    const a = formatAttrs(attrs);
    let inner = '';
    if (body) {
      const child = new XmlWriter(this.pad.length + 2);
      body(child);
      inner = child.toString();
    }
    if (inner) {
      this.parts.push(`${this.pad}<${name}${a}>\n`, inner, `${this.pad}</${name}>\n`);
    } else if (a || always) {
      this.parts.push(`${this.pad}<${name}${a}/>\n`);
    }
    return this;
  }

  /** Writes a kept (untyped) element and its subtree. */
  node(el: XmlElement): this {
    const a = formatAttrs(el.attrs, this.quote);
    if (el.children.length === 0) {
      this.parts.push(`${this.pad}<${el.name}${a}/>\n`);
      return this;
    }
    if (!el.hasElementChildren()) {
      this.parts.push(`${this.pad}<${el.name}${a}>${escapeXml(el.text())}</${el.name}>\n`);
      return this;
    }
    this.parts.push(`${this.pad}<${el.name}${a}>\n`);
    this.pad += '  ';
    for (const c of el.children) {
      if (typeof c === 'string') this.parts.push(`${this.pad}${escapeXml(c.trim())}\n`);
      else this.node(c);
    }
    this.pad = this.pad.slice(2);
    this.parts.push(`${this.pad}</${el.name}>\n`);
    return this;
  }

  /** Appends already formatted XML lines (must end with a newline). */
  raw(text: string): this {
    if (text) this.parts.push(text);
    return this;
  }

  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  toString(): string {
    return this.parts.join('');
  }
}

/** Formats a whole tree as libvirt would print it (or, with '"', as libxml2 dumps a node). */
export function formatXml(el: XmlElement, quote: "'" | '"' = "'"): string {
  return new XmlWriter(0, quote).node(el).toString();
}
