import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml } from '../parse.js';
import type { XmlElement } from '../tree.js';
import { XmlWriter } from '../write.js';
import { compileRelaxNg, LIBVIRT_SCHEMA_FILES } from './schema.js';
import { findLibvirtSchemaDir } from './schema-dir.js';
import { conformanceRoot, SCHEMA_AREAS, validSchemaCases } from './test-support.js';

// libxml2's own RELAX NG validator (Debian's libxml2-utils) as the oracle:
// mutated conformance documents must get the same verdict from both.
const schemaDir = findLibvirtSchemaDir();
const confRoot = conformanceRoot();
const xmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!xmllint) console.log('xmllint differential test skipped: xmllint is not installed (apt-get install libxml2-utils)');

const work = mkdtempSync(join(tmpdir(), 'vk-rng-diff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let seed = 20240601;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

function elements(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (const c of el.children) if (typeof c !== 'string') elements(c, out);
  return out;
}

/** One random edit of the kinds users make by mistake; undefined when it did not apply. */
function mutate(root: XmlElement): string | undefined {
  const all = elements(root);
  const e = all[rnd(all.length)]!;
  const parent = all.find((p) => p.children.includes(e));
  const attrs = Object.keys(e.attrs).filter((k) => !k.startsWith('xmlns'));
  switch (rnd(6)) {
    case 0:
      if (!parent) return undefined;
      parent.children.splice(parent.children.indexOf(e), 1);
      return `removed <${e.name}>`;
    case 1: {
      if (!attrs.length) return undefined;
      const k = attrs[rnd(attrs.length)]!;
      e.attrs[k] = ['bogus', '-1', '', '99999999999999999999', '0x1g'][rnd(5)]!;
      return `${e.name}@${k}='${e.attrs[k]}'`;
    }
    case 2: {
      if (!attrs.length) return undefined;
      const k = attrs[rnd(attrs.length)]!;
      delete e.attrs[k];
      return `removed ${e.name}@${k}`;
    }
    case 3:
      if (!parent) return undefined;
      parent.children.splice(parent.children.indexOf(e), 0, e.clone());
      return `doubled <${e.name}>`;
    case 4:
      if (e.hasElementChildren()) return undefined;
      e.children = [['bogus', '-5', '12abc', '1.5'][rnd(4)]!];
      return `<${e.name}>${e.children[0] as string}`;
    default:
      e.attrs['bogusattr'] = 'x';
      return `${e.name}@bogusattr`;
  }
}

describe.skipIf(!schemaDir || !confRoot || !xmllint)('agreement with xmllint --relaxng', () => {
  it('gives libxml2 verdicts on mutated conformance documents', () => {
    let n = 0;
    let invalid = 0;
    const disagreements: string[] = [];
    const file = join(work, 'doc.xml');
    for (const area of Object.keys(SCHEMA_AREAS)) {
      for (const c of validSchemaCases(confRoot!, area)) {
        const doc = parseXml(readFileSync(c.path, 'utf8'));
        const what = mutate(doc);
        if (!what) continue;
        const text = new XmlWriter().node(doc).toString();
        writeFileSync(file, text);
        const rng = join(schemaDir!, LIBVIRT_SCHEMA_FILES[c.kind]);
        const theirs = spawnSync('xmllint', ['--noout', '--relaxng', rng, file], { encoding: 'utf8' }).status === 0;
        const ours = compileRelaxNg(rng).check(parseXml(text));
        n++;
        if (!theirs) invalid++;
        if (theirs !== !ours) disagreements.push(`${area}/${c.file} [${what}]: xmllint ${theirs ? 'valid' : 'invalid'}, virtkit ${ours ? `${ours.path}: ${ours.reason}` : 'valid'}`);
      }
    }
    console.log(`xmllint and virtkit agree on ${n - disagreements.length}/${n} mutated documents (${invalid} invalid)`);
    expect(disagreements).toEqual([]);
  }, 120_000);
});
