/**
 * Reading LXC container config files (`key = value` lines) the way
 * libvirt's virConf does in its LXC mode: entries in file order, values
 * to the end of the line, lookups returning the first match.
 */
import { parseConf, VirtError } from '@virtkit/core';

export interface LxcConfEntry {
  key: string;
  value: string;
}

/** Parses LXC config text into its entries (comments dropped). Syntax errors are CONF_SYNTAX. */
export function readLxcConf(text: string, filename?: string): LxcConfEntry[] {
  const out: LxcConfEntry[] = [];
  for (const e of parseConf(text, { lxc: true, ...(filename ? { filename } : {}) })) {
    if (e.name === undefined || !e.value) continue;
    if (e.value.type !== 'string') throw new VirtError('CONF_SYNTAX', `LXC config: '${e.name}' must be a string`, { origin: 'lxc' });
    out.push({ key: e.name, value: e.value.value });
  }
  return out;
}

/** The first value of `key` (virConfGetValue). */
export function firstValue(entries: readonly LxcConfEntry[], key: string): string | undefined {
  return entries.find((e) => e.key === key)?.value;
}

/** The first value of the LXC 3.0 key, else of its pre-3.0 name. */
export function firstValueOf(entries: readonly LxcConfEntry[], key: string, legacy: string): string | undefined {
  return firstValue(entries, key) ?? firstValue(entries, legacy);
}
