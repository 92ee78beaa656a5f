import type { XmlElement } from '../tree.js';
import type { CompiledSchema } from './compile.js';
import { Derivatives, type QName } from './derivative.js';
import { describeNameClass, nameClassContains, type NameClass } from './name-class.js';
import type { Pattern } from './pattern.js';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Where a document breaks its schema: the element path (`/domain/devices/disk[2]/target`) and why. */
export interface RelaxNgViolation {
  path: string;
  reason: string;
}

class Violation extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Most alternatives listed in one message. */
const LIST_LIMIT = 12;

function listed(items: Iterable<string>, format: (s: string) => string = (s) => s): string {
  const all = [...new Set(items)];
  const shown = all.slice(0, LIST_LIMIT).map(format).join(', ');
  return all.length > LIST_LIMIT ? `${shown}, … (${all.length} in all)` : shown;
}

/** ": <why>" and/or " (expected <alternatives>)"; the datatype's reason alone when it is the only alternative. */
function because(why: string | undefined, alternatives: string[]): string {
  const unique = [...new Set(alternatives)];
  if (why && unique.length <= 1) return `: ${why}`;
  return `${why ? `: ${why}` : ''}${unique.length ? ` (expected ${listed(unique)})` : ''}`;
}

function quoted(s: string): string {
  const one = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return `'${one.replace(/\n/g, '\\n')}'`;
}

/**
 * Validates XmlElement trees against a compiled schema by derivatives, and
 * when a document fails, says where and why from the pattern it failed at.
 */
export class DocumentValidator {
  private readonly d: Derivatives;

  constructor(readonly schema: CompiledSchema) {
    this.d = new Derivatives(schema.builder);
  }

  /** The first place `root` breaks the schema, or undefined when it is valid. */
  check(root: XmlElement): RelaxNgViolation | undefined {
    try {
      const rest = this.element(this.schema.start, root, new Map([['xml', XML_NS]]), '');
      if (!rest.nullable) return { path: `/${root.name}`, reason: 'the document is incomplete' };
      return undefined;
    } catch (err) {
      if (err instanceof Violation) return { path: err.path, reason: err.reason };
      throw err;
    }
  }

  private element(p: Pattern, el: XmlElement, outer: ReadonlyMap<string, string>, path: string, index = 0): Pattern {
    const d = this.d;
    const scope = declarations(el, outer);
    const here = `${path}/${el.name}${index ? `[${index}]` : ''}`;
    const qn = resolve(el.name, scope, true, here);
    let q = d.startTagOpen(p, qn);
    if (q.t === 'notAllowed') throw new Violation(here, this.unexpectedElement(p, el.name, path === ''));
    for (const name in el.attrs) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const value = el.attrs[name]!;
      const aqn = resolve(name, scope, false, here);
      const next = d.attribute(q, aqn, value);
      if (next.t === 'notAllowed') throw new Violation(here, this.badAttribute(q, aqn, name, value));
      q = next;
    }
    const closed = d.startTagClose(q);
    if (closed.t === 'notAllowed') throw new Violation(here, this.missingAttributes(q));
    q = closed;
    if (!el.hasElementChildren()) {
      const text = el.text();
      const next = d.textContent(q, text);
      if (next.t === 'notAllowed') throw new Violation(here, this.badText(q, text));
      q = next;
    } else {
      const counts = new Map<string, number>();
      for (const c of el.children) if (typeof c !== 'string') counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
      const seen = new Map<string, number>();
      for (const c of el.children) {
        if (typeof c === 'string') {
          if (Derivatives.ignorable(c)) continue;
          const next = d.text(q, c);
          if (next.t === 'notAllowed') throw new Violation(here, this.badText(q, c));
          q = next;
          continue;
        }
        const n = (seen.get(c.name) ?? 0) + 1;
        seen.set(c.name, n);
        q = this.element(q, c, scope, here, counts.get(c.name)! > 1 ? n : 0);
      }
    }
    const ended = d.endTag(q);
    if (ended.t === 'notAllowed') throw new Violation(here, this.incomplete(q, el.name));
    return ended;
  }

  // ------------------------------------------------------------ diagnosis

  private unexpectedElement(p: Pattern, name: string, root: boolean): string {
    const names = [...new Set(firstElements(p).flatMap((nc) => describeNameClass(nc)))];
    const expected = listed(names, (n) => `<${n}>`);
    if (root) return `the root element <${name}> is not ${expected || 'allowed'}`;
    if (names.length === 0) return `unexpected element <${name}> (no more elements are allowed here)`;
    return `unexpected element <${name}> (expected ${names.length > 1 ? 'one of ' : ''}${expected})`;
  }

  private badAttribute(q: Pattern, qn: QName, name: string, value: string): string {
    const matching = attributes(q).filter((a) => a.t === 'attribute' && nameClassContains(a.nc, qn.ns, qn.local));
    if (matching.length === 0) {
      const allowed = listed(attributes(q).flatMap((a) => (a.t === 'attribute' ? describeNameClass(a.nc) : [])));
      return `unexpected attribute '${name}'${allowed ? ` (still allowed here: ${allowed})` : ' (no more attributes are allowed here)'}`;
    }
    const why = matching.map((a) => (a.t === 'attribute' ? firstReason(a.p, value) : undefined)).find((r) => r);
    const alternatives = matching.flatMap((a) => (a.t === 'attribute' ? describeValues(a.p) : []));
    return `invalid value ${quoted(value)} for attribute '${name}'${because(why, alternatives)}`;
  }

  private missingAttributes(q: Pattern): string {
    const missing = this.requiredAttributes(q);
    if (missing.length === 0) return 'a required attribute is missing';
    if (missing.length === 1) return `missing required attribute '${missing[0]}'`;
    return `missing required attribute: one of ${missing.map((m) => `'${m}'`).join(', ')}`;
  }

  private requiredAttributes(p: Pattern): string[] {
    switch (p.t) {
      case 'choice':
        if (this.d.startTagClose(p.a).t !== 'notAllowed' || this.d.startTagClose(p.b).t !== 'notAllowed') return [];
        return [...new Set([...this.requiredAttributes(p.a), ...this.requiredAttributes(p.b)])];
      case 'group':
      case 'interleave': {
        const a = this.requiredAttributes(p.a);
        return a.length ? a : this.requiredAttributes(p.b);
      }
      case 'after':
        return this.requiredAttributes(p.a);
      case 'oneOrMore':
        return this.requiredAttributes(p.p);
      case 'attribute':
        return describeNameClass(p.nc);
      default:
        return [];
    }
  }

  private badText(q: Pattern, text: string): string {
    const values = textPatterns(q);
    if (values.length === 0) return text.trim() === '' ? 'content is missing' : `unexpected text ${quoted(text.trim())}`;
    const why = values.map((v) => firstReason(v, text)).find((r) => r);
    return `invalid value ${quoted(text)}${because(why, values.flatMap(describeValues))}`;
  }

  private incomplete(q: Pattern, name: string): string {
    const required = requiredElements(q);
    if (required.length === 0) {
      const values = textPatterns(q);
      if (values.length) return `element <${name}> has no value (expected ${listed(values.flatMap(describeValues))})`;
      return `element <${name}> is incomplete`;
    }
    return `missing required element ${listed(required)} in <${name}>`;
  }
}

// ------------------------------------------------------------ namespaces

function declarations(el: XmlElement, outer: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  let scope: Map<string, string> | undefined;
  for (const k in el.attrs) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      scope ??= new Map(outer);
      scope.set(k === 'xmlns' ? '' : k.slice(6), el.attrs[k]!);
    }
  }
  return scope ?? outer;
}

function resolve(name: string, scope: ReadonlyMap<string, string>, element: boolean, path: string): QName {
  const colon = name.indexOf(':');
  if (colon < 0) return { ns: element ? (scope.get('') ?? '') : '', local: name };
  const prefix = name.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new Violation(path, `namespace prefix '${prefix}' of '${name}' is not declared`);
  return { ns, local: name.slice(colon + 1) };
}

// ------------------------------------------------------------ what a pattern expects next

/** Name classes of the elements that may come next. */
function firstElements(p: Pattern, out: NameClass[] = [], seen = new Set<number>()): NameClass[] {
  if (seen.has(p.id)) return out;
  seen.add(p.id);
  switch (p.t) {
    case 'choice':
    case 'interleave':
      firstElements(p.a, out, seen);
      firstElements(p.b, out, seen);
      break;
    case 'group':
      firstElements(p.a, out, seen);
      if (p.a.nullable) firstElements(p.b, out, seen);
      break;
    case 'after':
      firstElements(p.a, out, seen);
      break;
    case 'oneOrMore':
      firstElements(p.p, out, seen);
      break;
    case 'element':
      out.push(p.nc);
      break;
    default:
      break;
  }
  return out;
}

/** Attribute patterns still open in a start tag. */
function attributes(p: Pattern, out: Pattern[] = [], seen = new Set<number>()): Pattern[] {
  if (seen.has(p.id)) return out;
  seen.add(p.id);
  switch (p.t) {
    case 'choice':
    case 'interleave':
    case 'group':
      attributes(p.a, out, seen);
      attributes(p.b, out, seen);
      break;
    case 'after':
      attributes(p.a, out, seen);
      break;
    case 'oneOrMore':
      attributes(p.p, out, seen);
      break;
    case 'attribute':
      out.push(p);
      break;
    default:
      break;
  }
  return out;
}

/** Value-like patterns (data, value, list, text) that text may match next. */
function textPatterns(p: Pattern, out: Pattern[] = [], seen = new Set<number>()): Pattern[] {
  if (seen.has(p.id)) return out;
  seen.add(p.id);
  switch (p.t) {
    case 'choice':
    case 'interleave':
      textPatterns(p.a, out, seen);
      textPatterns(p.b, out, seen);
      break;
    case 'group':
      textPatterns(p.a, out, seen);
      if (p.a.nullable) textPatterns(p.b, out, seen);
      break;
    case 'after':
      textPatterns(p.a, out, seen);
      break;
    case 'oneOrMore':
      textPatterns(p.p, out, seen);
      break;
    case 'data':
    case 'value':
    case 'list':
    case 'text':
      out.push(p);
      break;
    default:
      break;
  }
  return out;
}

/** Elements that must still come before the current element can end. */
function requiredElements(p: Pattern): string[] {
  switch (p.t) {
    case 'choice': {
      if (p.a.t === 'after' || p.b.t === 'after' || p.a.t === 'choice' || p.b.t === 'choice') {
        // A choice of states (Afters): what any of them still needs.
        return [...new Set([...requiredElements(p.a), ...requiredElements(p.b)])];
      }
      if (p.a.nullable || p.b.nullable) return [];
      const a = requiredElements(p.a);
      const b = requiredElements(p.b);
      return a.length && b.length ? [`${a.join(' and ')} or ${b.join(' and ')}`] : [];
    }
    case 'after':
      return p.a.nullable ? [] : requiredElements(p.a);
    case 'group':
    case 'interleave':
      return [...requiredElements(p.a), ...requiredElements(p.b)];
    case 'oneOrMore':
      return requiredElements(p.p);
    case 'element':
      return describeNameClass(p.nc).map((n) => `<${n}>`);
    default:
      return [];
  }
}

/** For messages: what values a value pattern accepts. */
function describeValues(p: Pattern): string[] {
  switch (p.t) {
    case 'choice':
      return [...describeValues(p.a), ...describeValues(p.b)];
    case 'value':
      return [`'${p.value}'`];
    case 'data':
      return [p.except ? `${p.dt.description} except ${listed(describeValues(p.except))}` : p.dt.description];
    case 'list':
      return [`a list of ${listed(describeValues(p.p).filter((v) => v !== "''"))}`];
    case 'oneOrMore':
      return describeValues(p.p);
    case 'group':
      return [...describeValues(p.a), ...describeValues(p.b)];
    case 'text':
      return ['text'];
    case 'empty':
      return ["''"];
    default:
      return [];
  }
}

/** The datatype's reason for refusing a value, from the first data pattern that refuses it. */
function firstReason(p: Pattern, value: string): string | undefined {
  switch (p.t) {
    case 'choice':
      return firstReason(p.a, value) ?? firstReason(p.b, value);
    case 'data': {
      const why = p.dt.check(value);
      return why ? `it ${why}` : p.except ? `it is one of the excluded values` : undefined;
    }
    default:
      return undefined;
  }
}
