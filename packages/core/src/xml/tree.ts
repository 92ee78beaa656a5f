/**
 * A small ordered XML tree: what the typed models read from and what keeps
 * the elements they do not know, so those are written back in place.
 */
export type XmlNode = XmlElement | string;

export class XmlElement {
  readonly name: string;
  /** Attributes in document order (JS objects keep insertion order for non-numeric keys). */
  attrs: Record<string, string>;
  children: XmlNode[];

  constructor(name: string, attrs: Record<string, string> = {}, children: XmlNode[] = []) {
    this.name = name;
    this.attrs = attrs;
    this.children = children;
  }

  attr(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.attrs, name) ? this.attrs[name] : undefined;
  }

  hasAttr(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.attrs, name);
  }

  /** First child element with this name. */
  child(name: string): XmlElement | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.name === name) return c;
    return undefined;
  }

  /** Child elements, all of them or those with one of the given names, in order. */
  elements(...names: string[]): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) {
      if (typeof c === 'string') continue;
      if (names.length === 0 || names.includes(c.name)) out.push(c);
    }
    return out;
  }

  /** Concatenated text of the direct text children. */
  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  /** Text of a child element, or undefined when the child is absent. */
  childText(name: string): string | undefined {
    const c = this.child(name);
    return c ? c.text() : undefined;
  }

  /** Follows a path of element names ("os/type"). */
  find(path: string): XmlElement | undefined {
    let cur: XmlElement | undefined = this;
    for (const part of path.split('/')) {
      if (!cur) return undefined;
      cur = cur.child(part);
    }
    return cur;
  }

  hasElementChildren(): boolean {
    for (const c of this.children) if (typeof c !== 'string') return true;
    return false;
  }

  clone(): XmlElement {
    return new XmlElement(
      this.name,
      { ...this.attrs },
      this.children.map((c) => (typeof c === 'string' ? c : c.clone())),
    );
  }
}
