import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { ManifestRow } from './manifest.js';

/** What an area adapter gets for one manifest row. */
export interface CaseContext {
  /** The area folder (where MANIFEST.tsv is). */
  readonly dir: string;
  readonly row: ManifestRow;
  /** Reads a file named in the row (input, expected, or an arg's value) from the area folder. */
  readFile(name: string): string;
  /** Absolute path of a file in the area folder. */
  path(name: string): string;
}

/**
 * One conformance area. `run` turns the row's input into virtkit's output
 * (XML, a command line, a config file); it throws to reject. The runner
 * does the comparing, so an adapter never sees the expected output.
 */
export interface ConformanceArea {
  readonly name: string;
  /** `exact` text (after the harness normalisation) or `argv` token lists. */
  readonly compare: 'exact' | 'argv';
  run(ctx: CaseContext): string | Promise<string>;
}

export function makeContext(dir: string, row: ManifestRow): CaseContext {
  const abs = resolve(dir);
  const path = (name: string) => {
    const p = resolve(abs, name);
    if (p !== abs && !p.startsWith(abs + sep)) throw new Error(`file '${name}' is outside the area folder`);
    return p;
  };
  return { dir: abs, row, path, readFile: (name) => readFileSync(path(name), 'utf8') };
}
