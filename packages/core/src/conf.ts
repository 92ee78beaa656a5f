import { VirtError } from './errors.js';

/**
 * libvirt's configuration-file format (virconf): `name = value` lines with
 * strings, integers and lists, `#` comments. It is the format of
 * virtkit.conf, of Xen's xl.cfg and (with `lxc`) of LXC's config files.
 */
export type ConfValue =
  | { type: 'string'; value: string }
  | { type: 'int'; value: bigint; signed: boolean }
  | { type: 'list'; items: ConfValue[] };

export interface ConfEntry {
  /** undefined for a comment-only line. */
  name?: string;
  value?: ConfValue;
  comment?: string;
}

export interface ConfParseOptions {
  /** LXC's format: unquoted strings to the end of the line, dots in names. */
  lxc?: boolean;
  /** File name for messages. */
  filename?: string;
}

/** Parses virconf text. Errors are CONF_SYNTAX with `file:line: what`. */
export function parseConf(text: string, opts: ConfParseOptions = {}): ConfEntry[] {
  const entries: ConfEntry[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new VirtError('CONF_SYNTAX', `${opts.filename ? `${opts.filename}:` : ''}${line}: ${msg}`, { origin: 'conf' });
  };
  const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
  const isEol = (c: string | undefined) => c === '\n' || c === '\r';
  const skipBlanks = () => {
    while (i < n && isBlank(text[i])) i++;
  };
  const skipBlanksEol = () => {
    while (i < n && (isBlank(text[i]) || isEol(text[i]))) {
      if (text[i] === '\n') line++;
      i++;
    }
  };

  const parseString = (): string => {
    const c = text[i];
    if (c === "'" || (c === '"' && !text.startsWith('"""', i))) {
      const start = ++i;
      while (i < n && text[i] !== c && !isEol(text[i])) i++;
      if (text[i] !== c) fail('unterminated string');
      return text.slice(start, i++);
    }
    if (text.startsWith('"""', i)) {
      i += 3;
      const start = i;
      const end = text.indexOf('"""', i);
      if (end < 0) fail('unterminated string');
      for (let k = start; k < end; k++) if (text[k] === '\n') line++;
      i = end + 3;
      return text.slice(start, end);
    }
    // LXC: the rest of the line, trailing blanks dropped.
    const start = i;
    while (i < n && !isEol(text[i])) i++;
    let end = i;
    while (end > start && isBlank(text[end - 1])) end--;
    return text.slice(start, end);
  };

  const parseValue = (): ConfValue => {
    skipBlanks();
    if (i >= n) fail('expecting a value');
    const c = text[i]!;
    if (c === '"' || c === "'" || opts.lxc) return { type: 'string', value: parseString() };
    if (c === '[') {
      i++;
      skipBlanksEol();
      const items: ConfValue[] = [];
      if (i < n && text[i] !== ']') {
        items.push(parseValue());
        skipBlanksEol();
      }
      while (i < n && text[i] !== ']') {
        if (text[i] !== ',') fail('expecting a separator in list');
        i++;
        skipBlanksEol();
        if (text[i] === ']') break;
        items.push(parseValue());
        skipBlanksEol();
      }
      if (text[i] !== ']') fail('list is not closed with ]');
      i++;
      return { type: 'list', items };
    }
    if (/[0-9+-]/.test(c)) {
      const signed = c === '-';
      const start = i;
      if (c === '-' || c === '+') i++;
      if (i >= n || !/[0-9]/.test(text[i]!)) fail('unterminated number');
      while (i < n && /[0-9]/.test(text[i]!)) i++;
      return { type: 'int', value: BigInt(text.slice(start, i).replace(/^\+/, '')), signed };
    }
    return fail('expecting a value');
  };

  while (i < n) {
    skipBlanksEol();
    if (i >= n) break;
    if (text[i] === '#') {
      const start = ++i;
      while (i < n && !isEol(text[i])) i++;
      entries.push({ comment: text.slice(start, i) });
      continue;
    }
    const start = i;
    if (!/[A-Za-z]/.test(text[i]!)) fail('expecting a name');
    while (i < n && (/[A-Za-z0-9_]/.test(text[i]!) || (opts.lxc && text[i] === '.'))) i++;
    const name = text.slice(start, i);
    skipBlanks();
    if (text[i] !== '=') fail('expecting an assignment');
    i++;
    skipBlanks();
    const value = parseValue();
    skipBlanks();
    let comment: string | undefined;
    if (text[i] === '#') {
      const cs = ++i;
      while (i < n && !isEol(text[i])) i++;
      comment = text.slice(cs, i);
    }
    skipBlanks();
    if (i < n && text[i] === ';') i++;
    else if (i < n && !isEol(text[i])) fail('expecting a separator');
    entries.push({ name, value, ...(comment !== undefined ? { comment } : {}) });
  }
  return entries;
}

function formatConfValue(v: ConfValue): string {
  switch (v.type) {
    case 'int':
      return v.value.toString();
    case 'string':
      if (v.value.includes('\n')) return `"""${v.value}"""`;
      if (!v.value.includes('"')) return `"${v.value}"`;
      if (!v.value.includes("'")) return `'${v.value}'`;
      return `"""${v.value}"""`;
    case 'list':
      return `[ ${v.items.map(formatConfValue).join(', ')} ]`;
  }
}

/** Writes entries as libvirt's virConfWriteMem does. */
export function formatConf(entries: ConfEntry[]): string {
  let out = '';
  for (const e of entries) {
    if (e.name !== undefined && e.value) {
      out += `${e.name} = ${formatConfValue(e.value)}`;
      if (e.comment !== undefined) out += ` #${e.comment}`;
    } else if (e.comment !== undefined) out += `#${e.comment}`;
    out += '\n';
  }
  return out;
}

/** The last value set for a name. */
export function confGet(entries: ConfEntry[], name: string): ConfValue | undefined {
  let v: ConfValue | undefined;
  for (const e of entries) if (e.name === name) v = e.value;
  return v;
}

export function confString(entries: ConfEntry[], name: string): string | undefined {
  const v = confGet(entries, name);
  if (!v) return undefined;
  if (v.type !== 'string') throw new VirtError('CONF_SYNTAX', `config value '${name}' must be a string`, { origin: 'conf' });
  return v.value;
}

export function confStringList(entries: ConfEntry[], name: string): string[] | undefined {
  const v = confGet(entries, name);
  if (!v) return undefined;
  if (v.type === 'string') return [v.value];
  if (v.type !== 'list' || v.items.some((x) => x.type !== 'string')) {
    throw new VirtError('CONF_SYNTAX', `config value '${name}' must be a list of strings`, { origin: 'conf' });
  }
  return v.items.map((x) => (x as { value: string }).value);
}
