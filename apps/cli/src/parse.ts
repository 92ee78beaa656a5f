import { VirtError } from '@virtkit/core';
import type { CommandDef, OptionDef } from './command.js';

/** One command as typed: its name and its words, before they are bound to options. */
export interface RawCommand {
  name: string;
  words: string[];
}

/**
 * Splits a command string as virsh's shell does: blanks separate words,
 * single quotes keep everything, double quotes allow backslash escapes, a
 * backslash escapes the next character, `;` or a newline ends a command,
 * `#` at the start of a word begins a comment.
 */
export function splitCommandString(text: string): RawCommand[] {
  const cmds: RawCommand[] = [];
  let words: string[] = [];
  let cur = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(cur);
    cur = '';
    inWord = false;
  };
  const endCmd = () => {
    endWord();
    if (words.length) cmds.push({ name: words[0]!, words: words.slice(1) });
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new VirtError('INVALID_ARG', 'missing closing single quote');
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        cur += text[i];
      }
      if (i >= text.length) throw new VirtError('INVALID_ARG', 'missing closing double quote');
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < text.length) cur += text[++i];
      inWord = true;
    } else if (c === ';' || c === '\n') {
      endCmd();
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
    } else if (c === '#' && !inWord) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else {
      cur += c;
      inWord = true;
    }
  }
  endCmd();
  return cmds;
}

/** Splits already-split argv words into commands at `;` words (`virtkit list \; dominfo x`). */
export function splitCommandArgv(argv: string[]): RawCommand[] {
  const cmds: RawCommand[] = [];
  let words: string[] = [];
  for (const w of argv) {
    if (w === ';') {
      if (words.length) cmds.push({ name: words[0]!, words: words.slice(1) });
      words = [];
    } else words.push(w);
  }
  if (words.length) cmds.push({ name: words[0]!, words: words.slice(1) });
  return cmds;
}

/** Options of one command after binding. */
export class ParsedOptions {
  constructor(
    private readonly cmd: CommandDef,
    private readonly values: Map<string, string | true | string[]>,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  flag(name: string): boolean {
    return this.values.get(name) === true;
  }

  str(name: string): string | undefined {
    const v = this.values.get(name);
    if (v === undefined || v === true) return undefined;
    return Array.isArray(v) ? v.join(' ') : v;
  }

  /** A required string option (the parser already checked presence). */
  req(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw new VirtError('INVALID_ARG', `command '${this.cmd.name}' requires <${name}> option`);
    return v;
  }

  list(name: string): string[] {
    const v = this.values.get(name);
    if (v === undefined || v === true) return [];
    return Array.isArray(v) ? v : [v];
  }

  /** An integer option, checked for range. */
  int(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!/^[-+]?[0-9]+$/.test(v.trim())) throw new VirtError('INVALID_ARG', `numeric value '${v}' for <${name}> option is malformed or out of range`);
    const n = Number(v);
    if (n < min || n > max) throw new VirtError('INVALID_ARG', `numeric value '${v}' for <${name}> option is malformed or out of range`);
    return n;
  }
}

function findOption(cmd: CommandDef, name: string): OptionDef | undefined {
  return cmd.options.find((o) => o.name === name || o.aliases?.includes(name));
}

/**
 * Binds words to a command's options as virsh does: `--name value`,
 * `--name=value`, boolean `--flag`, positional words to the positional
 * options in order, an `argv` option taking the rest, `--` ending options.
 */
export function bindOptions(cmd: CommandDef, words: string[]): ParsedOptions {
  const values = new Map<string, string | true | string[]>();
  const positional = cmd.options.filter((o) => o.positional || o.type === 'argv');
  let onlyData = false;
  const fail = (msg: string) => new VirtError('INVALID_ARG', msg);
  const setValue = (o: OptionDef, v: string) => {
    if (o.type === 'argv') {
      const prev = values.get(o.name);
      values.set(o.name, [...(Array.isArray(prev) ? prev : []), v]);
      return;
    }
    if (values.has(o.name)) throw fail(`option --${o.name} already seen`);
    values.set(o.name, v);
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!onlyData && w === '--') {
      onlyData = true;
      continue;
    }
    if (!onlyData && w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const o = findOption(cmd, name);
      if (!o) throw fail(`command '${cmd.name}' doesn't support option --${name}`);
      if (o.type === 'bool') {
        if (eq >= 0) throw fail(`option --${name} of command '${cmd.name}' takes no value`);
        values.set(o.name, true);
        continue;
      }
      let v: string;
      if (eq >= 0) v = w.slice(eq + 1);
      else {
        if (i + 1 >= words.length) throw fail(`expected syntax: --${name} <${o.type === 'int' ? 'number' : 'string'}>`);
        v = words[++i]!;
      }
      setValue(o, v);
      continue;
    }
    const next = positional.find((o) => o.type === 'argv' || !values.has(o.name));
    if (!next) throw fail(`unexpected data '${w}'`);
    setValue(next, w);
  }
  for (const o of cmd.options) {
    if (o.required && !values.has(o.name)) throw fail(`command '${cmd.name}' requires <${o.name}> option`);
  }
  for (const group of cmd.exclusive ?? []) {
    const set = group.filter((n) => values.has(n));
    if (set.length > 1) throw fail(`Options --${set[0]} and --${set[1]} are mutually exclusive`);
  }
  return new ParsedOptions(cmd, values);
}
