// Self-check over the QEMU conformance data: every input must parse and
// format without throwing (unless its row is a reject), and every libvirt
// output (x86_64-latest expected files) must round-trip unchanged through
// the generic parser. Usage: node scripts/domain-selfcheck.mjs [--verbose]
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDomainXml, formatDomainXml } from '../dist/index.js';

const root = process.env.VIRTKIT_SHARED ? join(process.env.VIRTKIT_SHARED, 'conformance') : new URL('../../../../shared/conformance', import.meta.url).pathname;
const verbose = process.argv.includes('--verbose');
const config = { features: { individualVcpus: true, userAlias: true } };

function rows(area) {
  const lines = readFileSync(join(root, area, 'MANIFEST.tsv'), 'utf8').split('\n').filter(Boolean).slice(1);
  return lines.map((l) => {
    const [c, kind, input, expected, args = ''] = l.split('\t');
    return { case: c, kind, input, expected, args };
  });
}

let inputsOk = 0, inputsTotal = 0, rtOk = 0, rtTotal = 0;
const failures = [];
for (const area of ['domain-qemu-xml', 'qemu-argv']) {
  const seen = new Set();
  for (const r of rows(area)) {
    const file = join(root, area, r.input);
    if (!existsSync(file) || seen.has(r.input)) continue;
    seen.add(r.input);
    if (r.kind === 'reject') continue;
    inputsTotal++;
    try {
      formatDomainXml(parseDomainXml(readFileSync(file, 'utf8'), { inactive: true, config }), { inactive: true, secure: true });
      inputsOk++;
    } catch (e) {
      failures.push(`${area}/${r.input}: ${e.code ?? ''} ${e.message}`);
    }
  }
}
for (const r of rows('domain-qemu-xml')) {
  if (r.kind !== 'roundtrip') continue;
  for (const mode of r.args.match(/mode=([a-z,]+)/)?.[1].split(',') ?? ['inactive']) {
    rtTotal++;
    const want = readFileSync(join(root, 'domain-qemu-xml', r.expected), 'utf8');
    const inactive = mode === 'inactive';
    try {
      const got = formatDomainXml(parseDomainXml(want, { inactive, config }), { inactive, secure: true });
      if (got.trimEnd() === want.trimEnd()) rtOk++;
      else {
        const g = got.split('\n'), w = want.split('\n');
        let i = 0;
        while (g[i] === w[i]) i++;
        failures.push(`roundtrip ${r.expected} (${mode}) line ${i + 1}: want ${JSON.stringify(w[i])} got ${JSON.stringify(g[i])}`);
      }
    } catch (e) {
      failures.push(`roundtrip ${r.expected} (${mode}): ${e.code ?? ''} ${e.message}`);
    }
  }
}
if (verbose || failures.length) for (const f of failures) console.log(f);
console.log(`inputs parse+format: ${inputsOk}/${inputsTotal}; libvirt outputs round-trip unchanged: ${rtOk}/${rtTotal}`);
