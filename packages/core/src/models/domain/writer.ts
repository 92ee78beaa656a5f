import type { KeptXml } from '../../xml/keep.js';
import type { AttrValue, XmlWriter } from '../../xml/write.js';

export type AttrList = Array<readonly [string, AttrValue]>;

/**
 * libvirt's virXMLFormatElement plus kept XML: writes `<name attrs/>` or
 * `<name attrs>children</name>`, nothing when both are empty (unless
 * `always`), with the unknown attributes and children the reader kept
 * written after the known ones.
 */
export function writeEl(
  w: XmlWriter,
  name: string,
  attrs: AttrList | undefined,
  body?: ((w: XmlWriter) => void) | undefined,
  kept?: KeptXml | undefined,
  always = false,
): void {
  const a = kept?.attrs ? [...(attrs ?? []), ...kept.attrs] : attrs;
  const kids = kept?.children;
  if (kids) {
    w.element(name, a, (c) => {
      if (body) body(c);
      for (const k of kids) c.node(k);
    }, always);
  } else w.element(name, a, body, always);
}

/** `<name attrs>text</name>` with kept attributes; text-only elements keep no children. */
export function writeText(w: XmlWriter, name: string, text: AttrValue, attrs?: AttrList, kept?: KeptXml): void {
  if (text === undefined || text === null) return;
  const a = kept?.attrs ? [...(attrs ?? []), ...kept.attrs] : attrs;
  w.text(name, text, a);
}

export const yn = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : b ? 'yes' : 'no');
export const oo = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : b ? 'on' : 'off');

export function hex(n: number | undefined, width: number): string | undefined {
  if (n === undefined) return undefined;
  return '0x' + n.toString(16).padStart(width, '0');
}
