import { xsdPatternToRegExp } from './xsd-regex.js';

/**
 * The datatypes RELAX NG schemas name: the built-in library ("": string,
 * token) and the XML Schema datatypes libvirt's schemas use, with the facets
 * pattern, min/max Inclusive/Exclusive, length, minLength and maxLength.
 */
export const XSD_LIBRARY = 'http://www.w3.org/2001/XMLSchema-datatypes';

export interface Datatype {
  /** Unique text form, part of the hash-consing key of data and value patterns. */
  readonly key: string;
  /** For messages: "xsd:unsignedInt", "xsd:string matching '[0-9]+'". */
  readonly description: string;
  /** Undefined when `value` is allowed, else why not. */
  check(value: string): string | undefined;
  /** Value equality in the type's value space (both already allowed). */
  equal(a: string, b: string): boolean;
}

export class DatatypeError extends Error {}

type Kind = 'string' | 'token' | 'integer' | 'decimal' | 'double' | 'boolean' | 'name' | 'uri' | 'dateTime' | 'hexBinary' | 'base64Binary' | 'date' | 'time' | 'duration';

interface BaseType {
  kind: Kind;
  /** XSD whiteSpace: whether the value is collapsed before it is checked. */
  collapse: boolean;
  min?: bigint;
  max?: bigint;
  lexical?: RegExp;
}

const INT = /^[+-]?[0-9]+$/;
const BASE: Record<string, BaseType> = {
  string: { kind: 'string', collapse: false },
  normalizedString: { kind: 'string', collapse: false },
  token: { kind: 'token', collapse: true },
  language: { kind: 'token', collapse: true, lexical: /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/ },
  NMTOKEN: { kind: 'name', collapse: true, lexical: /^[-.0-9A-Za-z_:\u00B7\u00C0-\uFFFD]+$/ },
  NMTOKENS: { kind: 'name', collapse: true, lexical: /^[-.0-9A-Za-z_:\u00B7\u00C0-\uFFFD]+( [-.0-9A-Za-z_:\u00B7\u00C0-\uFFFD]+)*$/ },
  Name: { kind: 'name', collapse: true, lexical: /^[A-Za-z_:\u00C0-\uFFFD][-.0-9A-Za-z_:\u00B7\u00C0-\uFFFD]*$/ },
  NCName: { kind: 'name', collapse: true, lexical: /^[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*$/ },
  ID: { kind: 'name', collapse: true, lexical: /^[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*$/ },
  IDREF: { kind: 'name', collapse: true, lexical: /^[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*$/ },
  IDREFS: { kind: 'name', collapse: true, lexical: /^[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*( [A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*)*$/ },
  QName: { kind: 'name', collapse: true, lexical: /^([A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*:)?[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*$/ },
  anyURI: { kind: 'uri', collapse: true },
  boolean: { kind: 'boolean', collapse: true, lexical: /^(true|false|1|0)$/ },
  decimal: { kind: 'decimal', collapse: true, lexical: /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/ },
  double: { kind: 'double', collapse: true, lexical: /^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|-?INF|NaN)$/ },
  float: { kind: 'double', collapse: true, lexical: /^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|-?INF|NaN)$/ },
  integer: { kind: 'integer', collapse: true, lexical: INT },
  long: { kind: 'integer', collapse: true, lexical: INT, min: -(2n ** 63n), max: 2n ** 63n - 1n },
  int: { kind: 'integer', collapse: true, lexical: INT, min: -(2n ** 31n), max: 2n ** 31n - 1n },
  short: { kind: 'integer', collapse: true, lexical: INT, min: -32768n, max: 32767n },
  byte: { kind: 'integer', collapse: true, lexical: INT, min: -128n, max: 127n },
  nonNegativeInteger: { kind: 'integer', collapse: true, lexical: INT, min: 0n },
  positiveInteger: { kind: 'integer', collapse: true, lexical: INT, min: 1n },
  nonPositiveInteger: { kind: 'integer', collapse: true, lexical: INT, max: 0n },
  negativeInteger: { kind: 'integer', collapse: true, lexical: INT, max: -1n },
  unsignedLong: { kind: 'integer', collapse: true, lexical: INT, min: 0n, max: 2n ** 64n - 1n },
  unsignedInt: { kind: 'integer', collapse: true, lexical: INT, min: 0n, max: 2n ** 32n - 1n },
  unsignedShort: { kind: 'integer', collapse: true, lexical: INT, min: 0n, max: 65535n },
  unsignedByte: { kind: 'integer', collapse: true, lexical: INT, min: 0n, max: 255n },
  dateTime: { kind: 'dateTime', collapse: true, lexical: /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/ },
  date: { kind: 'date', collapse: true, lexical: /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/ },
  time: { kind: 'time', collapse: true, lexical: /^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/ },
  duration: { kind: 'duration', collapse: true, lexical: /^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/ },
  hexBinary: { kind: 'hexBinary', collapse: true, lexical: /^([0-9a-fA-F]{2})*$/ },
  base64Binary: { kind: 'base64Binary', collapse: true, lexical: /^[A-Za-z0-9+/= ]*$/ },
};

function collapse(v: string): string {
  return v.replace(/[\t\n\r ]+/g, ' ').trim();
}

function length(v: string): number {
  let n = 0;
  for (const _ of v) n++;
  return n;
}

/** Compares two numbers of the type's value space; undefined when they cannot be compared. */
function compare(kind: Kind, a: string, b: string): number | undefined {
  if (kind === 'integer') {
    if (!INT.test(a) || !INT.test(b)) return undefined;
    const x = BigInt(a.replace(/^\+/, ''));
    const y = BigInt(b.replace(/^\+/, ''));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (kind === 'decimal' || kind === 'double') {
    const x = Number(a.replace(/INF$/, 'Infinity'));
    const y = Number(b.replace(/INF$/, 'Infinity'));
    if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return undefined;
}

const datatypeCache = new Map<string, Datatype>();

/** The datatype `type` of `library` with facets `params`; throws DatatypeError for an unknown type or facet. */
export function makeDatatype(library: string, type: string, params: ReadonlyArray<readonly [string, string]> = []): Datatype {
  const key = `${library}#${type}#${params.map(([n, v]) => `${n}=${v}`).join('\u0000')}`;
  let dt = datatypeCache.get(key);
  if (dt) return dt;
  let base: BaseType | undefined;
  let prefix = 'xsd:';
  if (library === '') {
    if (params.length) throw new DatatypeError(`the built-in datatype '${type}' takes no parameters`);
    base = type === 'string' ? BASE.string : type === 'token' ? BASE.token : undefined;
    prefix = '';
  } else if (library === XSD_LIBRARY) base = Object.prototype.hasOwnProperty.call(BASE, type) ? BASE[type] : undefined;
  else throw new DatatypeError(`datatype library '${library}' is not supported`);
  if (!base) throw new DatatypeError(`datatype '${type}' of library '${library || 'built-in'}' is not supported`);
  dt = build(key, `${prefix}${type}`, base, params);
  datatypeCache.set(key, dt);
  return dt;
}

function build(key: string, name: string, base: BaseType, params: ReadonlyArray<readonly [string, string]>): Datatype {
  const checks: Array<(v: string) => string | undefined> = [];
  const described: string[] = [];
  for (const [param, raw] of params) {
    switch (param) {
      case 'pattern': {
        const re = xsdPatternToRegExp(raw);
        checks.push((v) => (re.test(v) ? undefined : `does not match the pattern '${raw}'`));
        described.push(`matching '${raw}'`);
        break;
      }
      case 'length':
      case 'minLength':
      case 'maxLength': {
        if (!/^[0-9]+$/.test(raw)) throw new DatatypeError(`facet ${param}='${raw}' is not a number`);
        const n = Number(raw);
        if (param === 'length') checks.push((v) => (length(v) === n ? undefined : `is not ${n} characters long`));
        else if (param === 'minLength') checks.push((v) => (length(v) >= n ? undefined : `is shorter than ${n} characters`));
        else checks.push((v) => (length(v) <= n ? undefined : `is longer than ${n} characters`));
        described.push(`${param} ${n}`);
        break;
      }
      case 'minInclusive':
      case 'maxInclusive':
      case 'minExclusive':
      case 'maxExclusive': {
        if (base.lexical && !base.lexical.test(raw)) throw new DatatypeError(`facet ${param}='${raw}' is not a ${name}`);
        const bound = collapse(raw);
        const ok =
          param === 'minInclusive' ? (c: number) => c >= 0 : param === 'maxInclusive' ? (c: number) => c <= 0 : param === 'minExclusive' ? (c: number) => c > 0 : (c: number) => c < 0;
        const words = param === 'minInclusive' ? 'less than' : param === 'maxInclusive' ? 'greater than' : param === 'minExclusive' ? 'not greater than' : 'not less than';
        checks.push((v) => {
          const c = compare(base.kind, v, bound);
          return c !== undefined && ok(c) ? undefined : `is ${words} ${bound}`;
        });
        described.push(`${param} ${bound}`);
        break;
      }
      default:
        throw new DatatypeError(`facet '${param}' of ${name} is not supported`);
    }
  }
  const description = described.length ? `${name} (${described.join(', ')})` : name;
  return {
    key,
    description,
    check(value: string): string | undefined {
      const v = base.collapse ? collapse(value) : value;
      if (base.lexical && !base.lexical.test(v)) return `is not a valid ${name}`;
      if (base.min !== undefined || base.max !== undefined) {
        const n = BigInt(v.replace(/^\+/, ''));
        if ((base.min !== undefined && n < base.min) || (base.max !== undefined && n > base.max)) return `is out of the range of ${name}`;
      }
      for (const c of checks) {
        const why = c(v);
        if (why) return why;
      }
      return undefined;
    },
    equal(a: string, b: string): boolean {
      if (!base.collapse) return a === b;
      const x = collapse(a);
      const y = collapse(b);
      if (x === y) return true;
      const c = compare(base.kind, x, y);
      return c === 0;
    },
  };
}
