import { nameClassContains } from './name-class.js';
import type { Pattern, PatternBuilder } from './pattern.js';

/** An expanded name: namespace URI and local part. */
export interface QName {
  ns: string;
  local: string;
}

/** Memo tables grow with the documents seen; past this many entries they start over. */
const MEMO_LIMIT = 200_000;

function isWhitespace(s: string): boolean {
  return /^[ \t\n\r]*$/.test(s);
}

/**
 * The derivatives of James Clark's "An algorithm for RELAX NG validation":
 * a pattern's derivative with respect to a start tag, an attribute, text or
 * an end tag is the pattern that the rest of the document must match;
 * NotAllowed means the document is invalid at that point. Results are
 * memoised by pattern id, which makes validating a big schema fast.
 */
export class Derivatives {
  private readonly openMemo = new Map<string, Pattern>();
  private readonly attMemo = new Map<string, Pattern>();
  private readonly textMemo = new Map<string, Pattern>();
  private readonly closeMemo = new Map<number, Pattern>();
  private readonly endMemo = new Map<number, Pattern>();

  constructor(readonly b: PatternBuilder) {}

  private remember<K>(memo: Map<K, Pattern>, key: K, p: Pattern): Pattern {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, p);
    return p;
  }

  // ------------------------------------------------------------ start tag

  startTagOpen(p: Pattern, qn: QName): Pattern {
    const key = `${p.id}\u0000${qn.ns}\u0000${qn.local}`;
    const hit = this.openMemo.get(key);
    if (hit) return hit;
    return this.remember(this.openMemo, key, this.startTagOpenUncached(p, qn));
  }

  private startTagOpenUncached(p: Pattern, qn: QName): Pattern {
    const b = this.b;
    switch (p.t) {
      case 'choice':
        return b.choice(this.startTagOpen(p.a, qn), this.startTagOpen(p.b, qn));
      case 'element':
        return nameClassContains(p.nc, qn.ns, qn.local) ? b.after(p.content(), b.empty) : b.notAllowed;
      case 'interleave':
        return b.choice(
          this.applyAfter(this.startTagOpen(p.a, qn), (x) => b.interleave(x, p.b)),
          this.applyAfter(this.startTagOpen(p.b, qn), (x) => b.interleave(p.a, x)),
        );
      case 'oneOrMore':
        return this.applyAfter(this.startTagOpen(p.p, qn), (x) => b.group(x, b.zeroOrMore(p)));
      case 'group': {
        const x = this.applyAfter(this.startTagOpen(p.a, qn), (y) => b.group(y, p.b));
        return p.a.nullable ? b.choice(x, this.startTagOpen(p.b, qn)) : x;
      }
      case 'after':
        return this.applyAfter(this.startTagOpen(p.a, qn), (y) => b.after(y, p.b));
      default:
        return b.notAllowed;
    }
  }

  /** Applies `f` to the second half of every After in a choice of Afters. */
  private applyAfter(p: Pattern, f: (p: Pattern) => Pattern): Pattern {
    switch (p.t) {
      case 'after':
        return this.b.after(p.a, f(p.b));
      case 'choice':
        return this.b.choice(this.applyAfter(p.a, f), this.applyAfter(p.b, f));
      default:
        return this.b.notAllowed;
    }
  }

  attribute(p: Pattern, qn: QName, value: string): Pattern {
    const key = `${p.id}\u0000${qn.ns}\u0000${qn.local}\u0000${value}`;
    const hit = this.attMemo.get(key);
    if (hit) return hit;
    return this.remember(this.attMemo, key, this.attributeUncached(p, qn, value));
  }

  private attributeUncached(p: Pattern, qn: QName, value: string): Pattern {
    const b = this.b;
    switch (p.t) {
      case 'after':
        return b.after(this.attribute(p.a, qn, value), p.b);
      case 'choice':
        return b.choice(this.attribute(p.a, qn, value), this.attribute(p.b, qn, value));
      case 'group':
        return b.choice(b.group(this.attribute(p.a, qn, value), p.b), b.group(p.a, this.attribute(p.b, qn, value)));
      case 'interleave':
        return b.choice(b.interleave(this.attribute(p.a, qn, value), p.b), b.interleave(p.a, this.attribute(p.b, qn, value)));
      case 'oneOrMore':
        return b.group(this.attribute(p.p, qn, value), b.zeroOrMore(p));
      case 'attribute':
        return nameClassContains(p.nc, qn.ns, qn.local) && this.valueMatches(p.p, value) ? b.empty : b.notAllowed;
      default:
        return b.notAllowed;
    }
  }

  /** Whether an attribute value (or a text-only element content) matches `p`. */
  valueMatches(p: Pattern, value: string): boolean {
    return (p.nullable && isWhitespace(value)) || this.text(p, value).nullable;
  }

  startTagClose(p: Pattern): Pattern {
    const hit = this.closeMemo.get(p.id);
    if (hit) return hit;
    return this.remember(this.closeMemo, p.id, this.startTagCloseUncached(p));
  }

  private startTagCloseUncached(p: Pattern): Pattern {
    const b = this.b;
    switch (p.t) {
      case 'after':
        return b.after(this.startTagClose(p.a), p.b);
      case 'choice':
        return b.choice(this.startTagClose(p.a), this.startTagClose(p.b));
      case 'group':
        return b.group(this.startTagClose(p.a), this.startTagClose(p.b));
      case 'interleave':
        return b.interleave(this.startTagClose(p.a), this.startTagClose(p.b));
      case 'oneOrMore':
        return b.oneOrMore(this.startTagClose(p.p));
      case 'attribute':
        return b.notAllowed;
      default:
        return p;
    }
  }

  // ------------------------------------------------------------ content

  text(p: Pattern, s: string): Pattern {
    // Long texts are rare and seldom repeat; do not let them fill the memo.
    if (s.length > 256) return this.textUncached(p, s);
    const key = `${p.id}\u0000${s}`;
    const hit = this.textMemo.get(key);
    if (hit) return hit;
    return this.remember(this.textMemo, key, this.textUncached(p, s));
  }

  private textUncached(p: Pattern, s: string): Pattern {
    const b = this.b;
    switch (p.t) {
      case 'choice':
        return b.choice(this.text(p.a, s), this.text(p.b, s));
      case 'interleave':
        return b.choice(b.interleave(this.text(p.a, s), p.b), b.interleave(p.a, this.text(p.b, s)));
      case 'group': {
        const x = b.group(this.text(p.a, s), p.b);
        return p.a.nullable ? b.choice(x, this.text(p.b, s)) : x;
      }
      case 'after':
        return b.after(this.text(p.a, s), p.b);
      case 'oneOrMore':
        return b.group(this.text(p.p, s), b.zeroOrMore(p));
      case 'text':
        return p;
      case 'value':
        return p.dt.check(s) === undefined && p.dt.equal(p.value, s) ? b.empty : b.notAllowed;
      case 'data':
        if (p.dt.check(s) !== undefined) return b.notAllowed;
        return p.except && this.text(p.except, s).nullable ? b.notAllowed : b.empty;
      case 'list': {
        let q = p.p;
        for (const word of s.split(/[ \t\n\r]+/)) {
          if (word === '') continue;
          q = this.text(q, word);
          if (q.t === 'notAllowed') return q;
        }
        return q.nullable ? b.empty : b.notAllowed;
      }
      default:
        return b.notAllowed;
    }
  }

  endTag(p: Pattern): Pattern {
    const hit = this.endMemo.get(p.id);
    if (hit) return hit;
    return this.remember(this.endMemo, p.id, this.endTagUncached(p));
  }

  private endTagUncached(p: Pattern): Pattern {
    switch (p.t) {
      case 'choice':
        return this.b.choice(this.endTag(p.a), this.endTag(p.b));
      case 'after':
        return p.a.nullable ? p.b : this.b.notAllowed;
      default:
        return this.b.notAllowed;
    }
  }

  /**
   * Content that is one text node (or nothing): RELAX NG ignores it when it
   * is whitespace only and the pattern does not want it.
   */
  textContent(p: Pattern, s: string): Pattern {
    const d = this.text(p, s);
    return isWhitespace(s) ? this.b.choice(p, d) : d;
  }

  /** Whitespace-only text among child elements is ignored. */
  static ignorable(s: string): boolean {
    return isWhitespace(s);
  }
}
