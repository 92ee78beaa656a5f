import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { VirtError } from '../errors.js';
import { DEFAULT_XML_LIMITS, type XmlParseLimits } from './parse.js';
import { XmlElement, type XmlNode } from './tree.js';


const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded by decodeEntities below so unknown ones are refused, not passed through.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  allowBooleanAttributes: false,
});

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlError(what: string, message: string): VirtError {
  return new VirtError('XML_ERROR', `${what}: ${message}`, { origin: 'xml' });
}

function decodeEntities(s: string, where: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&\s]{0,32});?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw xmlError(where, `unterminated character reference '${m}'`);
    const named = NAMED_ENTITIES[ent];
    if (named !== undefined) return named;
    let cp = NaN;
    if (/^#x[0-9a-fA-F]{1,6}$/.test(ent)) cp = parseInt(ent.slice(2), 16);
    else if (/^#[0-9]{1,7}$/.test(ent)) cp = parseInt(ent.slice(1), 10);
    if (Number.isNaN(cp)) throw xmlError(where, `entity '&${ent};' is not defined (only the five XML entities and character references are accepted)`);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw xmlError(where, `invalid character reference '&${ent};'`);
    return String.fromCodePoint(cp);
  });
}

// Characters XML 1.0 forbids outright (C0 controls other than tab, newline, carriage return).
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

interface RawNode {
  [key: string]: RawNode[] | Record<string, string> | string | undefined;
}

/**
 * A second, independent XML parser built on fast-xml-parser (its validator
 * plus its parser), used by the tests as the reference the scanner is
 * checked against: same trees for well-formed documents, same refusals.
 *
 * Parses an XML document into an XmlElement tree. Refuses DTDs (and with
 * them every entity expansion attack), undefined entities, documents larger
 * or deeper than the limits, several root elements and anything malformed,
 * always with a VirtError XML_ERROR that says where and what.
 *
 * `what` names the document in messages ("domain XML", "network 'default'").
 */
export function referenceParseXml(xml: string, what = 'XML document', limits: XmlParseLimits = {}): XmlElement {
  const lim = { ...DEFAULT_XML_LIMITS, ...limits };
  if (typeof xml !== 'string') throw xmlError(what, 'document is not a string');
  if (xml.length > lim.maxBytes) throw xmlError(what, `document is ${xml.length} bytes, more than the limit of ${lim.maxBytes}`);
  if (xml.indexOf('<!DOCTYPE') >= 0 || xml.indexOf('<!ENTITY') >= 0) {
    throw xmlError(what, 'document type declarations (DTD) and entity declarations are not accepted');
  }
  const bad = FORBIDDEN_CHARS.exec(xml);
  if (bad) throw xmlError(what, `character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML (offset ${bad.index})`);
  const trimmed = xml.trim();
  if (trimmed === '') throw xmlError(what, 'document is empty');
  // fast-xml-parser drops text after the root element silently.
  if (!trimmed.endsWith('>')) throw xmlError(what, 'text after the root element');

  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    const e = valid.err;
    throw xmlError(what, `malformed at line ${e.line}, column ${e.col}: ${e.msg}`);
  }
  let raw: RawNode[];
  try {
    raw = parser.parse(xml) as RawNode[];
  } catch (err) {
    throw xmlError(what, `malformed: ${(err as Error).message}`);
  }

  let root: XmlElement | undefined;
  const counter = { elements: 0 };
  for (const node of raw) {
    const key = nodeKey(node);
    if (key === '#text') {
      if (String(node['#text']).trim() !== '') throw xmlError(what, 'text outside the root element');
      continue;
    }
    if (key === '#comment' || key === undefined || key.startsWith('?')) continue;
    if (key === '#cdata') throw xmlError(what, 'CDATA outside the root element');
    if (root) throw xmlError(what, `more than one root element ('${root.name}' and '${key}')`);
    root = convert(node, key, 1, lim, counter, what);
  }
  if (!root) throw xmlError(what, 'no root element');
  return root;
}

function nodeKey(node: RawNode): string | undefined {
  for (const k in node) if (k !== ':@') return k;
  return undefined;
}

function convert(
  node: RawNode,
  name: string,
  depth: number,
  lim: Required<XmlParseLimits>,
  counter: { elements: number },
  what: string,
): XmlElement {
  if (depth > lim.maxDepth) throw xmlError(what, `element '${name}' is nested deeper than the limit of ${lim.maxDepth}`);
  if (++counter.elements > lim.maxElements) throw xmlError(what, `more than ${lim.maxElements} elements`);
  const rawAttrs = node[':@'] as Record<string, string> | undefined;
  const attrs: Record<string, string> = {};
  if (rawAttrs) {
    for (const k in rawAttrs) attrs[k] = decodeEntities(String(rawAttrs[k]), `${what}: attribute '${k}' of <${name}>`);
  }
  const kids = (node[name] as RawNode[] | undefined) ?? [];
  const children: XmlNode[] = [];
  let hasElements = false;
  for (const kid of kids) {
    const key = nodeKey(kid);
    if (key === undefined || key === '#comment' || key.startsWith('?')) continue;
    if (key === '#text') {
      children.push(decodeEntities(String(kid['#text']), `${what}: text of <${name}>`));
    } else if (key === '#cdata') {
      const inner = kid['#cdata'] as RawNode[];
      children.push(inner.map((t) => String(t['#text'] ?? '')).join(''));
    } else {
      hasElements = true;
      children.push(convert(kid, key, depth + 1, lim, counter, what));
    }
  }
  // Whitespace between child elements is layout, not content.
  const kept = hasElements ? mergeText(children).filter((c) => typeof c !== 'string' || c.trim() !== '') : mergeText(children);
  return new XmlElement(name, attrs, kept);
}

function mergeText(nodes: XmlNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if (typeof n === 'string' && typeof last === 'string') out[out.length - 1] = last + n;
    else out.push(n);
  }
  return out;
}
