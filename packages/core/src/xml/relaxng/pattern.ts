import type { Datatype } from './datatypes.js';
import { nameClassKey, type NameClass } from './name-class.js';

/**
 * Simplified RELAX NG patterns, hash-consed: building the same pattern twice
 * gives the same object, so a pattern's `id` identifies it and derivatives
 * can be memoised by id. Element content is compiled lazily (`content()`),
 * which is how recursive schemas stay finite.
 */
export type Pattern =
  | { readonly t: 'empty'; readonly id: number; readonly nullable: true }
  | { readonly t: 'notAllowed'; readonly id: number; readonly nullable: false }
  | { readonly t: 'text'; readonly id: number; readonly nullable: true }
  | { readonly t: 'choice' | 'interleave' | 'group'; readonly id: number; readonly nullable: boolean; readonly a: Pattern; readonly b: Pattern }
  | { readonly t: 'after'; readonly id: number; readonly nullable: false; readonly a: Pattern; readonly b: Pattern }
  | { readonly t: 'oneOrMore' | 'list'; readonly id: number; readonly nullable: boolean; readonly p: Pattern }
  | { readonly t: 'data'; readonly id: number; readonly nullable: false; readonly dt: Datatype; readonly except?: Pattern }
  | { readonly t: 'value'; readonly id: number; readonly nullable: false; readonly dt: Datatype; readonly value: string }
  | { readonly t: 'attribute'; readonly id: number; readonly nullable: false; readonly nc: NameClass; readonly p: Pattern }
  | ElementPattern;

export interface ElementPattern {
  readonly t: 'element';
  readonly id: number;
  readonly nullable: false;
  readonly nc: NameClass;
  /** The content pattern, compiled on first use. */
  content(): Pattern;
}

export type PatternOf<T extends Pattern['t']> = Extract<Pattern, { t: T }>;

/** Builds patterns through the simplifying constructors of Clark's algorithm. */
export class PatternBuilder {
  private readonly table = new Map<string, Pattern>();
  private nextId = 3;
  readonly empty: PatternOf<'empty'> = { t: 'empty', id: 0, nullable: true };
  readonly notAllowed: PatternOf<'notAllowed'> = { t: 'notAllowed', id: 1, nullable: false };
  readonly text: PatternOf<'text'> = { t: 'text', id: 2, nullable: true };

  /** How many distinct patterns exist (for tests and measurements). */
  get size(): number {
    return this.table.size + 3;
  }

  private intern<P extends Pattern>(key: string, make: (id: number) => P): P {
    let p = this.table.get(key);
    if (!p) {
      p = make(this.nextId++);
      this.table.set(key, p);
    }
    return p as P;
  }

  choice(a: Pattern, b: Pattern): Pattern {
    if (a.t === 'notAllowed') return b;
    if (b.t === 'notAllowed') return a;
    if (a === b) return a;
    // Canonical form: flattened, without duplicates, ordered by id, so that
    // choices built in different orders are one pattern.
    const members = new Map<number, Pattern>();
    const collect = (p: Pattern): void => {
      if (p.t === 'choice') {
        collect(p.a);
        collect(p.b);
      } else members.set(p.id, p);
    };
    collect(a);
    collect(b);
    const sorted = [...members.values()].sort((x, y) => y.id - x.id);
    let out = sorted[0]!;
    for (let i = 1; i < sorted.length; i++) out = this.binary('choice', sorted[i]!, out);
    return out;
  }

  group(a: Pattern, b: Pattern): Pattern {
    if (a.t === 'notAllowed' || b.t === 'notAllowed') return this.notAllowed;
    if (a.t === 'empty') return b;
    if (b.t === 'empty') return a;
    return this.binary('group', a, b);
  }

  interleave(a: Pattern, b: Pattern): Pattern {
    if (a.t === 'notAllowed' || b.t === 'notAllowed') return this.notAllowed;
    if (a.t === 'empty') return b;
    if (b.t === 'empty') return a;
    if (a.id > b.id) [a, b] = [b, a];
    return this.binary('interleave', a, b);
  }

  after(a: Pattern, b: Pattern): Pattern {
    if (a.t === 'notAllowed' || b.t === 'notAllowed') return this.notAllowed;
    return this.intern(`A${a.id},${b.id}`, (id) => ({ t: 'after', id, nullable: false, a, b }));
  }

  private binary(t: 'choice' | 'interleave' | 'group', a: Pattern, b: Pattern): Pattern {
    const nullable = t === 'choice' ? a.nullable || b.nullable : a.nullable && b.nullable;
    return this.intern(`${t[0]}${a.id},${b.id}`, (id) => ({ t, id, nullable, a, b }));
  }

  oneOrMore(p: Pattern): Pattern {
    if (p.t === 'notAllowed' || p.t === 'empty' || p.t === 'oneOrMore') return p;
    return this.intern(`O${p.id}`, (id) => ({ t: 'oneOrMore', id, nullable: p.nullable, p }));
  }

  zeroOrMore(p: Pattern): Pattern {
    return this.choice(this.oneOrMore(p), this.empty);
  }

  optional(p: Pattern): Pattern {
    return this.choice(p, this.empty);
  }

  list(p: Pattern): Pattern {
    if (p.t === 'notAllowed') return p;
    return this.intern(`L${p.id}`, (id) => ({ t: 'list', id, nullable: false, p }));
  }

  data(dt: Datatype, except?: Pattern): Pattern {
    if (except?.t === 'notAllowed') except = undefined;
    return this.intern(`D${dt.key}\u0001${except ? except.id : ''}`, (id) => ({ t: 'data', id, nullable: false, dt, ...(except ? { except } : {}) }));
  }

  value(dt: Datatype, value: string): Pattern {
    return this.intern(`V${dt.key}\u0001${value}`, (id) => ({ t: 'value', id, nullable: false, dt, value }));
  }

  attribute(nc: NameClass, p: Pattern): Pattern {
    if (p.t === 'notAllowed') return p;
    return this.intern(`@${nameClassKey(nc)}\u0001${p.id}`, (id) => ({ t: 'attribute', id, nullable: false, nc, p }));
  }

  /** An element pattern; `key` identifies its definition (the schema element it comes from). */
  element(nc: NameClass, key: string, content: () => Pattern): Pattern {
    return this.intern(`E${key}`, (id) => {
      let compiled: Pattern | undefined;
      return {
        t: 'element',
        id,
        nullable: false,
        nc,
        content(): Pattern {
          return (compiled ??= content());
        },
      };
    });
  }
}
