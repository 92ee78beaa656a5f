import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { sharedDataDir } from '@virtkit/core';
import { makeContext, type ConformanceArea } from './area.js';
import { compareArgv, compareExact } from './compare.js';
import { readManifest, type ManifestRow } from './manifest.js';
import { AREAS } from './areas/index.js';

export interface AreaResult {
  area: string;
  passed: number;
  total: number;
  failures: Array<{ row: ManifestRow; reason: string }>;
}

/** shared/conformance: $VIRTKIT_SHARED/conformance, else ../shared/conformance beside the repository (or the current folder). */
export function defaultConformanceRoot(): string {
  return sharedDataDir('conformance') ?? resolve(process.cwd(), '..', 'shared', 'conformance');
}

export function listAreas(root = defaultConformanceRoot()): string[] {
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'MANIFEST.tsv')) && statSync(join(root, d)).isDirectory())
    .sort();
}

function rowLabel(row: ManifestRow): string {
  const mode = row.args.mode !== undefined ? ` mode=${row.args.mode}` : '';
  return `${row.case} ${row.kind}${mode}`;
}

function errorText(err: unknown): string {
  if (err instanceof Error && 'code' in err) return `${String(err.code)}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

async function runRow(area: ConformanceArea | undefined, areaName: string, dir: string, row: ManifestRow): Promise<string | undefined> {
  if (!area) return `area '${areaName}' is not implemented yet`;
  const ctx = makeContext(dir, row);
  let output: string;
  try {
    output = await area.run(ctx);
  } catch (err) {
    if (row.kind === 'reject') return undefined;
    return `error: ${errorText(err)}`.split('\n')[0];
  }
  if (row.kind === 'reject') return 'accepted, but libvirt rejects it';
  if (!row.expected) return 'row names no expected file';
  const expected = ctx.readFile(row.expected);
  return area.compare === 'argv' ? compareArgv(output, expected) : compareExact(output, expected);
}

/** Runs one area folder, printing a line per row and the total line last. */
export async function runArea(areaName: string, dir: string, print: (line: string) => void = console.log): Promise<AreaResult> {
  const rows = readManifest(dir);
  const loader = AREAS[areaName];
  let area: ConformanceArea | undefined;
  let loadError: string | undefined;
  if (loader) {
    try {
      area = await loader();
    } catch (err) {
      loadError = `area '${areaName}' failed to load: ${errorText(err)}`;
    }
  }
  const result: AreaResult = { area: areaName, passed: 0, total: rows.length, failures: [] };
  for (const row of rows) {
    const reason = loadError ?? (await runRow(area, areaName, dir, row));
    if (reason === undefined) {
      result.passed++;
      print(`PASS ${rowLabel(row)}`);
    } else {
      result.failures.push({ row, reason });
      print(`FAIL ${rowLabel(row)}: ${reason}`);
    }
  }
  print(`${areaName}: ${result.passed}/${result.total} passed`);
  return result;
}

/** The area name of a folder is its base name. */
export function areaNameOf(dir: string): string {
  return basename(resolve(dir));
}
