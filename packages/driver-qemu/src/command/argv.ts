/**
 * The command being built: environment and arguments, plus the layout of
 * libvirt's .args test files (formatQemuArgs).
 */
import { toJson } from './json.js';
import type { BackendPart } from './parts.js';

export class QemuCommand {
  readonly env: Array<[string, string]> = [];
  readonly args: string[] = [];

  constructor(readonly binary: string) {}

  arg(...a: string[]): void {
    this.args.push(...a);
  }

  /** Appends a device's backends in their order. */
  backends(parts: readonly BackendPart[]): void {
    for (const p of parts) this.args.push(p.option, 'props' in p ? toJson(p.props) : p.text);
  }

  /** Sets (or replaces) an environment variable, keeping first-set order. */
  setEnv(name: string, value: string): void {
    const e = this.env.find(([k]) => k === name);
    if (e) e[1] = value;
    else this.env.push([name, value]);
  }
}

/** Quotes one word for a POSIX shell as libvirt's virCommandToString does. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * libvirt's .args layout: `K=V \` lines for the environment, the binary,
 * then one option per line with its value (a value never starts with '-').
 */
export function formatQemuArgs(cmd: { env: ReadonlyArray<readonly [string, string]>; binary: string; args: readonly string[] }): string {
  const lines: string[] = [];
  for (const [k, v] of cmd.env) lines.push(`${k}=${shellQuote(v)}`);
  lines.push(shellQuote(cmd.binary));
  const a = cmd.args;
  for (let i = 0; i < a.length; i++) {
    let line = shellQuote(a[i]!);
    if (a[i]!.startsWith('-') && i + 1 < a.length && !a[i + 1]!.startsWith('-')) {
      line += ' ' + shellQuote(a[i + 1]!);
      i++;
    }
    lines.push(line);
  }
  return lines.join(' \\\n') + '\n';
}
