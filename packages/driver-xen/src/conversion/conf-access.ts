/**
 * Reading and writing xl.cfg settings the way libvirt's xen_common.c does
 * over virconf: the first entry of a name wins (names compare without case),
 * typed getters with defaults, and a setter that replaces a setting in place
 * or appends it (virConfSetValue).
 */
import { VirtError, type ConfEntry, type ConfValue } from '@virtkit/core';

export function confError(message: string): VirtError {
  return new VirtError('CONF_SYNTAX', `xl.cfg: ${message}`, { origin: 'xen' });
}

/** The settings of one xl.cfg, looked up as virConfGetValue does. */
export class XlConfReader {
  constructor(private readonly entries: ConfEntry[]) {}

  get(name: string): ConfValue | undefined {
    const want = name.toLowerCase();
    for (const e of this.entries) if (e.name !== undefined && e.name.toLowerCase() === want) return e.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** xenConfigGetString: the string, `def` when unset; a non-string is an error. */
  string(name: string, def?: string): string | undefined {
    const v = this.get(name);
    if (!v) return def;
    if (v.type !== 'string') throw confError(`expected a string for '${name}' parameter`);
    return v.value;
  }

  /** xenConfigCopyString: like string() but the setting must be there. */
  requiredString(name: string): string {
    const s = this.string(name);
    if (s === undefined) throw confError(`config value ${name} was missing`);
    return s;
  }

  /** xenConfigGetBool: 1/0 from an unsigned number or the string "1"; `def` when unset. */
  bool(name: string, def: number): number {
    const v = this.get(name);
    if (!v) return def;
    if (v.type === 'int' && !v.signed) return v.value !== 0n ? 1 : 0;
    if (v.type === 'string') return v.value === '1' ? 1 : 0;
    throw confError(`config value ${name} was malformed`);
  }

  /** xenConfigGetULong(Long): an unsigned number, or a decimal string. */
  ulong(name: string, def: number): number {
    const v = this.get(name);
    if (!v) return def;
    if (v.type === 'int' && !v.signed) return Number(v.value);
    if (v.type === 'string') {
      const t = v.value.trim();
      if (!/^[+]?[0-9]+$/.test(t)) throw confError(`config value ${name} was malformed`);
      return Number(t);
    }
    throw confError(`config value ${name} was malformed`);
  }

  /**
   * virConfGetValueStringList without the string compatibility: a list of
   * strings, undefined when unset or not a list (libvirt ignores that case),
   * an error when a list item is not a string.
   */
  stringList(name: string): string[] | undefined {
    const v = this.get(name);
    if (!v || v.type !== 'list') return undefined;
    return v.items.map((x) => {
      if (x.type !== 'string') throw confError(`expected a string list for '${name}' parameter`);
      return x.value;
    });
  }

  /** The string items of a list, skipping other items (the device-list parsers' `continue`). */
  stringItems(name: string): string[] {
    const v = this.get(name);
    if (!v || v.type !== 'list') return [];
    const out: string[] = [];
    for (const x of v.items) if (x.type === 'string') out.push(x.value);
    return out;
  }
}

/** An xl.cfg being written: settings keep their first position when set again. */
export class XlConfWriter {
  readonly entries: ConfEntry[] = [];

  set(name: string, value: ConfValue): void {
    const found = this.entries.find((e) => e.name === name);
    if (found) found.value = value;
    else this.entries.push({ name, value });
  }

  setString(name: string, value: string): void {
    this.set(name, { type: 'string', value });
  }

  setInt(name: string, value: number): void {
    this.set(name, { type: 'int', value: BigInt(value), signed: value < 0 });
  }

  /** Sets a list of strings, or nothing when the list is empty (as libvirt's formatters do). */
  setStringList(name: string, values: string[]): void {
    if (values.length === 0) return;
    this.set(name, { type: 'list', items: values.map((value) => ({ type: 'string', value })) });
  }
}
