import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { formatDomainXml, parseDomainXml } from './index.js';
import { sharedDataDir } from '../../shared-data.js';

// Seeded, time-bounded mutation fuzzing: random byte edits and element
// shuffles of real domain documents; parsing must fail only with VirtError.
const conformance = sharedDataDir('conformance');
const FUZZ_MS = Number(process.env.VIRTKIT_FUZZ_MS ?? 20000);

function corpus(): string[] {
  const out: string[] = [];
  for (const area of ['domain-xml', 'lxc-xml', 'domain-qemu-xml', 'qemu-argv']) {
    const dir = conformance && join(conformance, area);
    if (!dir || !existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.xml')) out.push(readFileSync(join(dir, f), 'utf8'));
  }
  if (out.length === 0) {
    out.push(`<domain type='kvm'><name>a</name><memory>1024</memory><os><type>hvm</type></os><devices><disk type='file'><source file='/a'/><target dev='vda'/></disk><interface type='user'/><serial type='tcp'><source host='h' service='1'/></serial></devices></domain>`);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ["'", '"', '<', '>', '&', '/', '=', ' ', '0', '-1', '99999999999999999999', 'yes', 'no', 'on', '0x', '\u0001', 'é', ']]>', '<!--', '&amp;'];

function mutate(doc: string, rand: () => number): string {
  let s = doc;
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rand() * s.length);
    switch (Math.floor(rand() * 6)) {
      case 0: s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(rand() * 20)); break;
      case 1: s = s.slice(0, pos) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(pos); break;
      case 2: s = s.slice(0, pos) + String.fromCharCode(Math.floor(rand() * 128)) + s.slice(pos + 1); break;
      case 3: {
        // Replace an attribute value with a token.
        const m = /='[^']*'/g;
        const all = [...s.matchAll(m)];
        const hit = all[Math.floor(rand() * all.length)];
        if (hit?.index !== undefined) s = s.slice(0, hit.index) + `='${TOKENS[Math.floor(rand() * TOKENS.length)]}'` + s.slice(hit.index + hit[0].length);
        break;
      }
      case 4: {
        // Duplicate a line (duplicate elements/attributes).
        const lines = s.split('\n');
        const l = Math.floor(rand() * lines.length);
        lines.splice(l, 0, lines[l]!);
        s = lines.join('\n');
        break;
      }
      default: {
        // Drop a line.
        const lines = s.split('\n');
        lines.splice(Math.floor(rand() * lines.length), 1);
        s = lines.join('\n');
      }
    }
  }
  return s;
}

describe('domain XML fuzzing', () => {
  it(`throws only VirtError on mutated inputs (${FUZZ_MS} ms, seeded)`, () => {
    const docs = corpus();
    const rand = rng(0x5eed);
    const deadline = Date.now() + FUZZ_MS;
    let runs = 0;
    let accepted = 0;
    while (Date.now() < deadline) {
      const doc = mutate(docs[Math.floor(rand() * docs.length)]!, rand);
      const inactive = rand() < 0.5;
      try {
        const def = parseDomainXml(doc, { inactive, config: { features: { individualVcpus: true } } });
        const out = formatDomainXml(def, { inactive, secure: true });
        // What we print must parse again.
        parseDomainXml(out, { inactive, config: { features: { individualVcpus: true } } });
        accepted++;
      } catch (e) {
        if (!(e instanceof VirtError)) {
          throw new Error(`non-VirtError ${(e as Error).stack}\n--- input ---\n${doc}`);
        }
      }
      runs++;
    }
    expect(runs).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(0);
  }, FUZZ_MS + 30000);
});
