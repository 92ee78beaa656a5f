import { VirtError } from '../errors.js';
import { XmlElement } from './tree.js';

/**
 * A compact XPath 1.0 evaluator over XmlElement trees, for `dumpxml
 * --xpath` and friends: location paths with the child, descendant, parent,
 * self and attribute axes, `*`, `text()`, `node()`, predicates, the usual
 * operators and the core functions scripts use.
 */
export type XPathNode =
  | { kind: 'element'; el: XmlElement }
  | { kind: 'attribute'; owner: XmlElement; name: string; value: string }
  | { kind: 'text'; parent: XmlElement; value: string }
  | { kind: 'root'; el: XmlElement };

export type XPathValue = XPathNode[] | string | number | boolean;

type Tok = { t: 'name' | 'str' | 'num' | 'op'; v: string };

function tokenize(expr: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (['//', '!=', '<=', '>=', '..', '::'].includes(two)) {
      toks.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('/()[]@,|=<>*.+-'.includes(c)) {
      if (c === '.' && /[0-9]/.test(expr[i + 1] ?? '')) {
        const m = /^\.[0-9]+/.exec(expr.slice(i))!;
        toks.push({ t: 'num', v: m[0] });
        i += m[0].length;
        continue;
      }
      toks.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw xpathError(expr, 'unterminated string literal');
      toks.push({ t: 'str', v: expr.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const num = /^[0-9]+(\.[0-9]*)?/.exec(expr.slice(i));
    if (num) {
      toks.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.:-]*/.exec(expr.slice(i));
    if (name) {
      let v = name[0];
      // `axis::` is split back off the name.
      if (v.endsWith(':') && expr[i + v.length] === ':') v = v.slice(0, -1);
      toks.push({ t: 'name', v });
      i += v.length;
      continue;
    }
    throw xpathError(expr, `unexpected character '${c}'`);
  }
  return toks;
}

function xpathError(expr: string, msg: string): VirtError {
  return new VirtError('INVALID_ARG', `XPath expression '${expr}': ${msg}`, { origin: 'xml' });
}

type Ast =
  | { k: 'path'; absolute: boolean; steps: Step[]; base?: Ast }
  | { k: 'bin'; op: string; l: Ast; r: Ast }
  | { k: 'neg'; e: Ast }
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'fn'; name: string; args: Ast[] }
  | { k: 'filter'; e: Ast; preds: Ast[] };

interface Step {
  axis: 'child' | 'descendant-or-self' | 'descendant' | 'parent' | 'self' | 'attribute' | 'ancestor';
  test: string; // name, '*', 'text()', 'node()'
  preds: Ast[];
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly src: string) {}
  peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return !!t && t.t === 'op' && t.v === v;
  }
  take(v?: string): Tok {
    const t = this.toks[this.i];
    if (!t || (v !== undefined && t.v !== v)) throw xpathError(this.src, `expected '${v ?? 'more'}'${t ? ` near '${t.v}'` : ' at the end'}`);
    this.i++;
    return t;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  parse(): Ast {
    const e = this.or();
    if (!this.done()) throw xpathError(this.src, `unexpected '${this.peek()!.v}'`);
    return e;
  }
  private binLevel(next: () => Ast, ops: string[], names = false): Ast {
    let l = next();
    for (;;) {
      const t = this.peek();
      if (t && ((names && t.t === 'name') || (!names && t.t === 'op')) && ops.includes(t.v)) {
        this.i++;
        l = { k: 'bin', op: t.v, l, r: next() };
      } else return l;
    }
  }
  or = (): Ast => this.binLevel(this.and, ['or'], true);
  and = (): Ast => this.binLevel(this.eq, ['and'], true);
  eq = (): Ast => this.binLevel(this.rel, ['=', '!=']);
  rel = (): Ast => this.binLevel(this.add, ['<', '>', '<=', '>=']);
  add = (): Ast => this.binLevel(this.unary, ['+', '-']);
  unary = (): Ast => {
    if (this.isOp('-')) {
      this.i++;
      return { k: 'neg', e: this.unary() };
    }
    return this.binLevel(this.pathExpr, ['|']);
  };
  pathExpr = (): Ast => {
    const t = this.peek();
    if (!t) throw xpathError(this.src, 'unexpected end');
    const isFn = t.t === 'name' && this.peek(1)?.v === '(' && !['text', 'node'].includes(t.v);
    if (t.t === 'str' || t.t === 'num' || isFn || (t.t === 'op' && t.v === '(')) {
      let e: Ast;
      if (t.t === 'str') {
        this.i++;
        e = { k: 'str', v: t.v };
      } else if (t.t === 'num') {
        this.i++;
        e = { k: 'num', v: Number(t.v) };
      } else if (isFn) {
        this.i += 2;
        const args: Ast[] = [];
        if (!this.isOp(')')) {
          args.push(this.or());
          while (this.isOp(',')) {
            this.i++;
            args.push(this.or());
          }
        }
        this.take(')');
        e = { k: 'fn', name: t.v, args };
      } else {
        this.i++;
        e = this.or();
        this.take(')');
      }
      const preds = this.predicates();
      if (preds.length) e = { k: 'filter', e, preds };
      if (this.isOp('/') || this.isOp('//')) return { k: 'path', absolute: false, steps: this.relPath(), base: e };
      return e;
    }
    if (t.t === 'op' && (t.v === '/' || t.v === '//')) {
      if (t.v === '/') {
        this.i++;
        const n = this.peek();
        const startsStep = n && (n.t === 'name' || (n.t === 'op' && ['*', '@', '.', '..'].includes(n.v)));
        return { k: 'path', absolute: true, steps: startsStep ? this.relPathNoLead() : [] };
      }
      return { k: 'path', absolute: true, steps: this.relPath() };
    }
    return { k: 'path', absolute: false, steps: this.relPathNoLead() };
  };
  private relPath(): Step[] {
    const steps: Step[] = [];
    while (this.isOp('/') || this.isOp('//')) {
      if (this.take().v === '//') steps.push({ axis: 'descendant-or-self', test: 'node()', preds: [] });
      steps.push(this.step());
    }
    return steps;
  }
  private relPathNoLead(): Step[] {
    return [this.step(), ...this.relPath()];
  }
  private step(): Step {
    if (this.isOp('.')) {
      this.i++;
      return { axis: 'self', test: 'node()', preds: [] };
    }
    if (this.isOp('..')) {
      this.i++;
      return { axis: 'parent', test: 'node()', preds: [] };
    }
    let axis: Step['axis'] = 'child';
    if (this.isOp('@')) {
      this.i++;
      axis = 'attribute';
    } else if (this.peek()?.t === 'name' && this.peek(1)?.v === '::') {
      const a = this.take().v;
      this.take('::');
      if (!['child', 'descendant-or-self', 'descendant', 'parent', 'self', 'attribute', 'ancestor'].includes(a)) throw xpathError(this.src, `unsupported axis '${a}'`);
      axis = a as Step['axis'];
    }
    let test: string;
    if (this.isOp('*')) {
      this.i++;
      test = '*';
    } else {
      const n = this.take();
      if (n.t !== 'name') throw xpathError(this.src, `expected a name near '${n.v}'`);
      test = n.v;
      if ((test === 'text' || test === 'node') && this.isOp('(')) {
        this.take('(');
        this.take(')');
        test += '()';
      }
    }
    return { axis, test, preds: this.predicates() };
  }
  private predicates(): Ast[] {
    const preds: Ast[] = [];
    while (this.isOp('[')) {
      this.i++;
      preds.push(this.or());
      this.take(']');
    }
    return preds;
  }
}

interface Ctx {
  node: XPathNode;
  pos: number;
  size: number;
  parents: Map<XmlElement, XmlElement>;
  root: XmlElement;
}

function stringValue(n: XPathNode): string {
  switch (n.kind) {
    case 'attribute':
    case 'text':
      return n.value;
    case 'element':
    case 'root': {
      let s = '';
      const walk = (el: XmlElement) => {
        for (const c of el.children) typeof c === 'string' ? (s += c) : walk(c);
      };
      walk(n.el);
      return s;
    }
  }
}

const toStr = (v: XPathValue): string =>
  Array.isArray(v) ? (v.length ? stringValue(v[0]!) : '') : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(v)) : String(v);
const toNum = (v: XPathValue): number => (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : Number(toStr(v).trim() || NaN));
const toBool = (v: XPathValue): boolean => (Array.isArray(v) ? v.length > 0 : typeof v === 'number' ? v !== 0 && !Number.isNaN(v) : typeof v === 'string' ? v.length > 0 : v);

function stepNodes(n: XPathNode, step: Step, ctx: Ctx): XPathNode[] {
  const out: XPathNode[] = [];
  const el = n.kind === 'element' || n.kind === 'root' ? n.el : undefined;
  const matchEl = (e: XmlElement) => step.test === '*' || step.test === 'node()' || step.test === e.name;
  const childNodes = (e: XmlElement, into: XPathNode[]) => {
    for (const c of e.children) {
      if (typeof c === 'string') {
        if (step.test === 'text()' || step.test === 'node()') into.push({ kind: 'text', parent: e, value: c });
      } else if (matchEl(c) && step.test !== 'text()') into.push({ kind: 'element', el: c });
    }
  };
  switch (step.axis) {
    case 'self':
      if (step.test === 'node()' || (n.kind === 'element' && matchEl(n.el))) out.push(n);
      break;
    case 'child':
      if (n.kind === 'root') {
        if (matchEl(n.el) && step.test !== 'text()') out.push({ kind: 'element', el: n.el });
      } else if (el) childNodes(el, out);
      break;
    case 'attribute':
      if (n.kind === 'element') {
        for (const [k, v] of Object.entries(n.el.attrs)) if (step.test === '*' || step.test === 'node()' || step.test === k) out.push({ kind: 'attribute', owner: n.el, name: k, value: v });
      }
      break;
    case 'descendant-or-self':
    case 'descendant': {
      if (step.axis === 'descendant-or-self' && (step.test === 'node()' || (n.kind === 'element' && matchEl(n.el)))) out.push(n);
      const walk = (e: XmlElement) => {
        for (const c of e.children) {
          if (typeof c === 'string') {
            if (step.test === 'text()' || step.test === 'node()') out.push({ kind: 'text', parent: e, value: c });
          } else {
            if (matchEl(c) && step.test !== 'text()') out.push({ kind: 'element', el: c });
            walk(c);
          }
        }
      };
      if (n.kind === 'root') {
        if (matchEl(n.el) && step.test !== 'text()') out.push({ kind: 'element', el: n.el });
        walk(n.el);
      } else if (el) walk(el);
      break;
    }
    case 'parent':
    case 'ancestor': {
      let p: XmlElement | undefined =
        n.kind === 'attribute' ? n.owner : n.kind === 'text' ? n.parent : n.kind === 'element' ? ctx.parents.get(n.el) : undefined;
      const top = n.kind === 'element' && n.el === ctx.root;
      while (p) {
        if (step.test === 'node()' || matchEl(p)) out.push({ kind: 'element', el: p });
        if (step.axis === 'parent') break;
        p = ctx.parents.get(p);
      }
      if (top && step.test === 'node()') out.push({ kind: 'root', el: ctx.root });
      break;
    }
  }
  return out;
}

function applyPreds(nodes: XPathNode[], preds: Ast[], ctx: Ctx): XPathNode[] {
  let cur = nodes;
  for (const p of preds) {
    cur = cur.filter((node, i) => {
      const v = evalAst(p, { ...ctx, node, pos: i + 1, size: cur.length });
      return typeof v === 'number' ? v === i + 1 : toBool(v);
    });
  }
  return cur;
}

function dedupe(nodes: XPathNode[]): XPathNode[] {
  const els = new Set<XmlElement>();
  const others = new Map<XmlElement, Set<string>>();
  // The root node and the document element share one XmlElement but are two nodes (`//x` needs both).
  let sawRoot = false;
  return nodes.filter((n) => {
    if (n.kind === 'root') {
      if (sawRoot) return false;
      sawRoot = true;
      return true;
    }
    if (n.kind === 'element') {
      if (els.has(n.el)) return false;
      els.add(n.el);
      return true;
    }
    const owner = n.kind === 'attribute' ? n.owner : n.parent;
    const key = n.kind === 'attribute' ? `@${n.name}` : `#${n.value}`;
    let set = others.get(owner);
    if (!set) others.set(owner, (set = new Set()));
    if (set.has(key)) return false;
    set.add(key);
    return true;
  });
}

function compare(op: string, a: XPathValue, b: XPathValue): boolean {
  const cmp = (x: string | number | boolean, y: string | number | boolean): boolean => {
    if (op === '=' || op === '!=') {
      let eq: boolean;
      if (typeof x === 'boolean' || typeof y === 'boolean') eq = toBool(x) === toBool(y);
      else if (typeof x === 'number' || typeof y === 'number') eq = toNum(x) === toNum(y);
      else eq = x === y;
      return op === '=' ? eq : !eq;
    }
    const nx = toNum(x);
    const ny = toNum(y);
    return op === '<' ? nx < ny : op === '>' ? nx > ny : op === '<=' ? nx <= ny : nx >= ny;
  };
  const vals = (v: XPathValue) => (Array.isArray(v) ? v.map(stringValue) : [v]);
  for (const x of vals(a)) for (const y of vals(b)) if (cmp(x, y)) return true;
  return false;
}

function evalAst(a: Ast, ctx: Ctx): XPathValue {
  switch (a.k) {
    case 'str':
      return a.v;
    case 'num':
      return a.v;
    case 'neg':
      return -toNum(evalAst(a.e, ctx));
    case 'filter': {
      const v = evalAst(a.e, ctx);
      if (!Array.isArray(v)) throw new VirtError('INVALID_ARG', 'XPath: predicate applied to a non-node-set');
      return applyPreds(v, a.preds, ctx);
    }
    case 'path': {
      let nodes: XPathNode[];
      if (a.base) {
        const b = evalAst(a.base, ctx);
        if (!Array.isArray(b)) throw new VirtError('INVALID_ARG', 'XPath: path applied to a non-node-set');
        nodes = b;
      } else nodes = a.absolute ? [{ kind: 'root', el: ctx.root }] : [ctx.node];
      for (const step of a.steps) {
        const next: XPathNode[] = [];
        for (const n of nodes) next.push(...applyPreds(stepNodes(n, step, ctx), step.preds, ctx));
        nodes = dedupe(next);
      }
      return nodes;
    }
    case 'bin': {
      if (a.op === 'or') return toBool(evalAst(a.l, ctx)) || toBool(evalAst(a.r, ctx));
      if (a.op === 'and') return toBool(evalAst(a.l, ctx)) && toBool(evalAst(a.r, ctx));
      const l = evalAst(a.l, ctx);
      const r = evalAst(a.r, ctx);
      if (a.op === '|') {
        if (!Array.isArray(l) || !Array.isArray(r)) throw new VirtError('INVALID_ARG', "XPath: '|' needs node-sets");
        return dedupe([...l, ...r]);
      }
      if (a.op === '+') return toNum(l) + toNum(r);
      if (a.op === '-') return toNum(l) - toNum(r);
      return compare(a.op, l, r);
    }
    case 'fn':
      return callFn(a.name, a.args, ctx);
  }
}

function callFn(name: string, args: Ast[], ctx: Ctx): XPathValue {
  const arg = (i: number) => evalAst(args[i]!, ctx);
  const nodeArg = (): XPathNode | undefined => {
    if (!args.length) return ctx.node;
    const v = arg(0);
    return Array.isArray(v) ? v[0] : undefined;
  };
  switch (name) {
    case 'count': {
      const v = arg(0);
      if (!Array.isArray(v)) throw new VirtError('INVALID_ARG', 'XPath: count() needs a node-set');
      return v.length;
    }
    case 'last':
      return ctx.size;
    case 'position':
      return ctx.pos;
    case 'string':
      return args.length ? toStr(arg(0)) : stringValue(ctx.node);
    case 'number':
      return args.length ? toNum(arg(0)) : toNum(stringValue(ctx.node));
    case 'boolean':
      return toBool(arg(0));
    case 'not':
      return !toBool(arg(0));
    case 'true':
      return true;
    case 'false':
      return false;
    case 'name':
    case 'local-name': {
      const n = nodeArg();
      if (!n) return '';
      const full = n.kind === 'element' ? n.el.name : n.kind === 'attribute' ? n.name : '';
      return name === 'local-name' ? full.replace(/^.*:/, '') : full;
    }
    case 'concat':
      return args.map((_, i) => toStr(arg(i))).join('');
    case 'contains':
      return toStr(arg(0)).includes(toStr(arg(1)));
    case 'starts-with':
      return toStr(arg(0)).startsWith(toStr(arg(1)));
    case 'string-length':
      return (args.length ? toStr(arg(0)) : stringValue(ctx.node)).length;
    case 'normalize-space':
      return (args.length ? toStr(arg(0)) : stringValue(ctx.node)).trim().replace(/\s+/g, ' ');
    case 'sum': {
      const v = arg(0);
      if (!Array.isArray(v)) throw new VirtError('INVALID_ARG', 'XPath: sum() needs a node-set');
      return v.reduce((s, n) => s + toNum(stringValue(n)), 0);
    }
    case 'substring-before': {
      const s = toStr(arg(0));
      const i = s.indexOf(toStr(arg(1)));
      return i < 0 ? '' : s.slice(0, i);
    }
    case 'substring-after': {
      const s = toStr(arg(0));
      const t = toStr(arg(1));
      const i = s.indexOf(t);
      return i < 0 ? '' : s.slice(i + t.length);
    }
    default:
      throw new VirtError('INVALID_ARG', `XPath: unknown function '${name}()'`);
  }
}

/** Evaluates an XPath expression against a document's root element. */
export function evaluateXPath(root: XmlElement, expr: string): XPathValue {
  if (typeof expr !== 'string' || expr.trim() === '') throw new VirtError('INVALID_ARG', 'XPath expression is empty');
  if (expr.length > 4096) throw new VirtError('INVALID_ARG', 'XPath expression is too long');
  const ast = new Parser(tokenize(expr), expr).parse();
  const parents = new Map<XmlElement, XmlElement>();
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (typeof c !== 'string') {
        parents.set(c, e);
        walk(c);
      }
    }
  };
  walk(root);
  return evalAst(ast, { node: { kind: 'root', el: root }, pos: 1, size: 1, parents, root });
}
