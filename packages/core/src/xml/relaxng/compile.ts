import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { VirtError } from '../../errors.js';
import { parseXml } from '../parse.js';
import type { XmlElement } from '../tree.js';
import { DatatypeError, makeDatatype } from './datatypes.js';
import type { NameClass } from './name-class.js';
import { PatternBuilder, type Pattern } from './pattern.js';
import { XsdRegexError } from './xsd-regex.js';

/**
 * Reads a RELAX NG schema (XML syntax) into one start pattern: follows
 * include (with overriding defines and start), externalRef, nested grammars
 * and parentRef, combines defines (combine="choice|interleave"), inherits
 * `ns` and `datatypeLibrary`, and resolves namespace prefixes. What the
 * RELAX NG simplification would do, done while building the hash-consed
 * patterns of pattern.ts.
 */

export const RNG_NS = 'http://relaxng.org/ns/structure/1.0';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export class SchemaError extends Error {}

interface Env {
  file: string;
  ns: string;
  dtLib: string;
  prefixes: ReadonlyMap<string, string>;
  grammar: Grammar;
}

interface Part {
  el: XmlElement;
  env: Env;
  combine?: string;
}

class Grammar {
  readonly defines = new Map<string, Part[]>();
  readonly start: Part[] = [];
  readonly compiled = new Map<string, Pattern>();
  readonly compiling = new Set<string>();
  constructor(
    readonly id: number,
    readonly parent: Grammar | undefined,
  ) {}
}

export interface CompiledSchema {
  /** Absolute path of the schema file. */
  readonly path: string;
  readonly start: Pattern;
  readonly builder: PatternBuilder;
  /** How many schema files were read. */
  readonly files: number;
}

/** Compiles the schema at `path` (an absolute or relative file path). Throws SchemaError. */
export function compileRelaxNgFile(path: string): CompiledSchema {
  return new Compiler().compileFile(resolve(path));
}

class Compiler {
  private readonly b = new PatternBuilder();
  private readonly docs = new Map<string, XmlElement>();
  private readonly elementIds = new WeakMap<XmlElement, number>();
  private nextElementId = 0;
  private nextGrammarId = 0;

  compileFile(path: string): CompiledSchema {
    const root = this.load(path);
    const env: Env = { file: path, ns: '', dtLib: '', prefixes: new Map([['xml', XML_NS]]), grammar: new Grammar(this.nextGrammarId++, undefined) };
    const start = this.pattern(root, env);
    this.compileAllElements(start);
    return { path, start, builder: this.b, files: this.docs.size };
  }

  /** Compiles every element's content now, so that schema errors show at compile time, not during validation. */
  private compileAllElements(start: Pattern): void {
    const seen = new Set<number>();
    const stack: Pattern[] = [start];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      switch (p.t) {
        case 'choice':
        case 'group':
        case 'interleave':
        case 'after':
          stack.push(p.a, p.b);
          break;
        case 'oneOrMore':
        case 'list':
        case 'attribute':
          stack.push(p.p);
          break;
        case 'data':
          if (p.except) stack.push(p.except);
          break;
        case 'element':
          stack.push(p.content());
          break;
        default:
          break;
      }
    }
  }

  private load(path: string): XmlElement {
    let doc = this.docs.get(path);
    if (doc) return doc;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SchemaError(`cannot read schema file ${path}: ${(err as Error).message}`);
    }
    try {
      doc = parseXml(text, `schema ${path}`);
    } catch (err) {
      throw new SchemaError(err instanceof VirtError ? err.message : String(err));
    }
    this.docs.set(path, doc);
    return doc;
  }

  // ------------------------------------------------------------ environment

  /** The environment inside `el`: its namespace declarations, ns and datatypeLibrary. */
  private enter(el: XmlElement, env: Env): Env {
    let prefixes = env.prefixes;
    let copied = false;
    for (const k in el.attrs) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) {
        if (!copied) {
          prefixes = new Map(prefixes);
          copied = true;
        }
        (prefixes as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), el.attrs[k]!);
      }
    }
    const ns = el.attr('ns');
    const dtLib = el.attr('datatypeLibrary');
    if (!copied && ns === undefined && dtLib === undefined) return env;
    return { ...env, prefixes, ns: ns ?? env.ns, dtLib: dtLib ?? env.dtLib };
  }

  /** The local name of an element of the RELAX NG namespace, or undefined for foreign (annotation) elements. */
  private rngName(el: XmlElement, env: Env): string | undefined {
    const colon = el.name.indexOf(':');
    const prefix = colon < 0 ? '' : el.name.slice(0, colon);
    const local = colon < 0 ? el.name : el.name.slice(colon + 1);
    // The element's own declarations count too.
    const own = prefix === '' ? el.attr('xmlns') : el.attr(`xmlns:${prefix}`);
    const ns = own ?? env.prefixes.get(prefix) ?? '';
    return ns === RNG_NS ? local : undefined;
  }

  private rngChildren(el: XmlElement, env: Env): Array<{ name: string; el: XmlElement }> {
    const out: Array<{ name: string; el: XmlElement }> = [];
    for (const c of el.children) {
      if (typeof c === 'string') continue;
      const name = this.rngName(c, env);
      if (name) out.push({ name, el: c });
    }
    return out;
  }

  private fail(env: Env, el: XmlElement, what: string): never {
    throw new SchemaError(`${env.file}: <${el.name}>: ${what}`);
  }

  private hrefPath(el: XmlElement, env: Env): string {
    const href = el.attr('href');
    if (!href) this.fail(env, el, 'has no href');
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith('file:')) this.fail(env, el, `href '${href}' is not a local file`);
    return resolve(dirname(env.file), href.replace(/^file:(\/\/)?/, ''));
  }

  /** Environment of the root element of another file, reached from `from`. */
  private fileEnv(path: string, from: Env, fromEl: XmlElement, grammar: Grammar): Env {
    const ns = fromEl.attr('ns') ?? from.ns;
    return { file: path, ns, dtLib: '', prefixes: new Map([['xml', XML_NS]]), grammar };
  }

  // ------------------------------------------------------------ grammars

  private grammarContent(el: XmlElement, env: Env, overrides: ReadonlySet<string>): void {
    for (const { name, el: c } of this.rngChildren(el, env)) {
      const cenv = this.enter(c, env);
      switch (name) {
        case 'start':
          if (!overrides.has('\u0000start')) env.grammar.start.push({ el: c, env: cenv, ...(c.attr('combine') ? { combine: c.attr('combine') } : {}) });
          break;
        case 'define': {
          const n = c.attr('name');
          if (!n) this.fail(env, c, 'define without a name');
          if (overrides.has(n)) break;
          let parts = env.grammar.defines.get(n);
          if (!parts) env.grammar.defines.set(n, (parts = []));
          parts.push({ el: c, env: cenv, ...(c.attr('combine') ? { combine: c.attr('combine') } : {}) });
          break;
        }
        case 'div':
          this.grammarContent(c, cenv, overrides);
          break;
        case 'include': {
          const path = this.hrefPath(c, cenv);
          const root = this.load(path);
          const renv = this.enter(root, this.fileEnv(path, cenv, c, env.grammar));
          if (this.rngName(root, renv) !== 'grammar') this.fail(env, c, `${path} is not a grammar`);
          const own = new Set(overrides);
          this.overriddenBy(c, cenv, own);
          this.grammarContent(root, renv, own);
          this.grammarContent(c, cenv, overrides);
          break;
        }
        default:
          this.fail(env, c, `<${name}> is not allowed in a grammar`);
      }
    }
  }

  /** Names of the defines (and start) that an include element overrides. */
  private overriddenBy(el: XmlElement, env: Env, out: Set<string>): void {
    for (const { name, el: c } of this.rngChildren(el, env)) {
      if (name === 'start') out.add('\u0000start');
      else if (name === 'define' && c.attr('name')) out.add(c.attr('name')!);
      else if (name === 'div') this.overriddenBy(c, this.enter(c, env), out);
    }
  }

  private define(grammar: Grammar, name: string, env: Env, at: XmlElement): Pattern {
    const key = name;
    const done = grammar.compiled.get(key);
    if (done) return done;
    const parts = name === '\u0000start' ? grammar.start : grammar.defines.get(name);
    if (!parts || parts.length === 0) this.fail(env, at, name === '\u0000start' ? 'the grammar has no start' : `reference to undefined pattern '${name}'`);
    if (grammar.compiling.has(key)) this.fail(env, at, `pattern '${name}' refers to itself outside an element`);
    grammar.compiling.add(key);
    const combines = new Set(parts.map((p) => p.combine).filter((c): c is string => !!c));
    if (combines.size > 1) this.fail(env, at, `pattern '${name}' is combined both by ${[...combines].join(' and ')}`);
    const combine = [...combines][0] ?? 'choice';
    if (parts.length > 1 && parts.filter((p) => !p.combine).length > 1) this.fail(env, at, `pattern '${name}' is defined more than once without combine`);
    let out: Pattern | undefined;
    for (const part of parts) {
      const p = this.group(part.el, part.env);
      out = out === undefined ? p : combine === 'interleave' ? this.b.interleave(out, p) : this.b.choice(out, p);
    }
    grammar.compiling.delete(key);
    grammar.compiled.set(key, out!);
    return out!;
  }

  // ------------------------------------------------------------ patterns

  /** The children patterns of `el` in sequence (pattern+ is their group). */
  private group(el: XmlElement, env: Env, skip = 0): Pattern {
    let out: Pattern = this.b.empty;
    let i = 0;
    for (const { el: c } of this.rngChildren(el, env)) {
      if (i++ < skip) continue;
      out = this.b.group(out, this.pattern(c, env));
    }
    return out;
  }

  private pattern(raw: XmlElement, outer: Env): Pattern {
    const b = this.b;
    const env = this.enter(raw, outer);
    const name = this.rngName(raw, outer);
    const el = raw;
    switch (name) {
      case 'element': {
        const n = el.attr('name');
        const nc = n !== undefined ? this.qname(n, env, el, env.ns) : this.nameClass(this.rngChildren(el, env)[0]?.el, env, el);
        let id = this.elementIds.get(el);
        if (id === undefined) this.elementIds.set(el, (id = this.nextElementId++));
        return b.element(nc, `${id}:${env.grammar.id}`, () => this.group(el, env, n !== undefined ? 0 : 1));
      }
      case 'attribute': {
        const n = el.attr('name');
        const nc = n !== undefined ? this.qname(n, env, el, el.attr('ns') ?? '') : this.nameClass(this.rngChildren(el, env)[0]?.el, env, el);
        const kids = this.rngChildren(el, env).length - (n !== undefined ? 0 : 1);
        return b.attribute(nc, kids > 0 ? this.group(el, env, n !== undefined ? 0 : 1) : b.text);
      }
      case 'group':
        return this.group(el, env);
      case 'interleave':
      case 'choice': {
        let out: Pattern | undefined;
        for (const { el: c } of this.rngChildren(el, env)) {
          const p = this.pattern(c, env);
          out = out === undefined ? p : name === 'choice' ? b.choice(out, p) : b.interleave(out, p);
        }
        return out ?? this.fail(outer, el, `<${name}> without patterns`);
      }
      case 'optional':
        return b.optional(this.group(el, env));
      case 'zeroOrMore':
        return b.zeroOrMore(this.group(el, env));
      case 'oneOrMore':
        return b.oneOrMore(this.group(el, env));
      case 'mixed':
        return b.interleave(this.group(el, env), b.text);
      case 'list':
        return b.list(this.group(el, env));
      case 'empty':
        return b.empty;
      case 'text':
        return b.text;
      case 'notAllowed':
        return b.notAllowed;
      case 'value': {
        const type = el.attr('type');
        return b.value(this.datatype(type === undefined ? '' : env.dtLib, type ?? 'token', [], outer, el), el.text());
      }
      case 'data': {
        const type = el.attr('type');
        if (!type) this.fail(outer, el, 'data without a type');
        const params: Array<[string, string]> = [];
        let except: Pattern | undefined;
        for (const { name: cn, el: c } of this.rngChildren(el, env)) {
          if (cn === 'param') params.push([c.attr('name') ?? this.fail(outer, c, 'param without a name'), c.text()]);
          else if (cn === 'except') except = this.choiceOf(c, this.enter(c, env));
        }
        return b.data(this.datatype(env.dtLib, type, params, outer, el), except);
      }
      case 'ref':
        return this.define(env.grammar, el.attr('name') ?? this.fail(outer, el, 'ref without a name'), outer, el);
      case 'parentRef': {
        const parent = env.grammar.parent ?? this.fail(outer, el, 'parentRef outside a nested grammar');
        return this.define(parent, el.attr('name') ?? this.fail(outer, el, 'parentRef without a name'), outer, el);
      }
      case 'externalRef': {
        const path = this.hrefPath(el, env);
        const root = this.load(path);
        return this.pattern(root, this.fileEnv(path, env, el, env.grammar));
      }
      case 'grammar': {
        const g = new Grammar(this.nextGrammarId++, env.grammar);
        const genv = { ...env, grammar: g };
        this.grammarContent(el, genv, new Set());
        return this.define(g, '\u0000start', genv, el);
      }
      default:
        return this.fail(outer, el, name ? `<${name}> is not a pattern` : 'not a RELAX NG element');
    }
  }

  private choiceOf(el: XmlElement, env: Env): Pattern {
    let out: Pattern = this.b.notAllowed;
    for (const { el: c } of this.rngChildren(el, env)) out = this.b.choice(out, this.pattern(c, env));
    return out;
  }

  private datatype(lib: string, type: string, params: Array<[string, string]>, env: Env, el: XmlElement) {
    try {
      return makeDatatype(lib, type, params);
    } catch (err) {
      if (err instanceof DatatypeError || err instanceof XsdRegexError) this.fail(env, el, err.message);
      throw err;
    }
  }

  // ------------------------------------------------------------ name classes

  private qname(text: string, env: Env, el: XmlElement, defaultNs: string): NameClass {
    const t = text.trim();
    const colon = t.indexOf(':');
    if (colon < 0) return { kind: 'name', ns: defaultNs, local: t };
    const prefix = t.slice(0, colon);
    const ns = env.prefixes.get(prefix);
    if (ns === undefined) this.fail(env, el, `namespace prefix '${prefix}' is not declared`);
    return { kind: 'name', ns, local: t.slice(colon + 1) };
  }

  private nameClass(raw: XmlElement | undefined, outer: Env, owner: XmlElement): NameClass {
    if (!raw) this.fail(outer, owner, 'has neither a name nor a name class');
    const env = this.enter(raw, outer);
    const kind = this.rngName(raw, outer);
    const except = (): NameClass | undefined => {
      const ex = this.rngChildren(raw, env).find((c) => c.name === 'except');
      if (!ex) return undefined;
      const eenv = this.enter(ex.el, env);
      const kids = this.rngChildren(ex.el, eenv);
      let out: NameClass | undefined;
      for (const k of kids) {
        const nc = this.nameClass(k.el, eenv, ex.el);
        out = out ? { kind: 'choice', a: out, b: nc } : nc;
      }
      return out;
    };
    switch (kind) {
      case 'name':
        return this.qname(raw.text(), env, raw, env.ns);
      case 'anyName': {
        const ex = except();
        return ex ? { kind: 'anyName', except: ex } : { kind: 'anyName' };
      }
      case 'nsName': {
        const ex = except();
        return ex ? { kind: 'nsName', ns: env.ns, except: ex } : { kind: 'nsName', ns: env.ns };
      }
      case 'choice': {
        let out: NameClass | undefined;
        for (const k of this.rngChildren(raw, env)) {
          const nc = this.nameClass(k.el, env, raw);
          out = out ? { kind: 'choice', a: out, b: nc } : nc;
        }
        return out ?? this.fail(outer, raw, 'an empty name class choice');
      }
      default:
        return this.fail(outer, raw, `<${raw.name}> is not a name class`);
    }
  }
}
