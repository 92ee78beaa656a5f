// Domain XML parse+format speed on a typical virt-manager guest
// (qemu-argv/q35-virt-manager-basic.xml). The limit is 200 µs per document.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile, report } from '../../../bench/lib.mjs';
import { formatDomainXml, parseDomainXml } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.VIRTKIT_SHARED ?? join(here, '..', '..', '..', '..', 'shared');
const file = join(shared, 'conformance', 'qemu-argv', 'q35-virt-manager-basic.xml');
if (!existsSync(file)) {
  console.log(`skipped: ${file} not found`);
  process.exit(0);
}
const xml = readFileSync(file, 'utf8');
const opts = { inactive: true, config: { features: { individualVcpus: true } } };
const roundTrip = () => formatDomainXml(parseDomainXml(xml, opts), { inactive: true, secure: true });
for (let i = 0; i < 3000; i++) roundTrip();
const BATCH = 200;
const samples = [];
for (let s = 0; s < 50; s++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) roundTrip();
  samples.push(Number(process.hrtime.bigint() - t) / 1e6 / BATCH);
}
report('domain parse+format (q35-virt-manager-basic)', median(samples), 0.2, NaN);
console.log(`  median ${(median(samples) * 1000).toFixed(1)} µs, p95 ${(percentile(samples, 95) * 1000).toFixed(1)} µs per document`);
if (median(samples) > 0.2) process.exit(1);
