// Domain XML speed on a typical virt-manager guest
// (qemu-argv/q35-virt-manager-basic.xml): parse+format in process, and a
// define through the test driver, side by side with libvirt 9.0 defining
// the same document in its own test driver through python3-libvirt (the
// peer; about 4,600 defines a second on these machines).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, median, percentile, report } from '../../../bench/lib.mjs';
import { Connection, formatDomainXml, parseDomainXml, PluginLoader } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.VIRTKIT_SHARED ?? join(here, '..', '..', '..', '..', 'shared');
const file = join(shared, 'conformance', 'qemu-argv', 'q35-virt-manager-basic.xml');
if (!existsSync(file)) {
  console.log(`skipped: ${file} not found`);
  process.exit(0);
}
const xml = readFileSync(file, 'utf8');
// The same document as a test-driver guest: both test drivers only run i686 'test' guests.
const testXml = xml.replace("<domain type='kvm'>", "<domain type='test'>").replace(" arch='x86_64' machine='q35'", '');

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

// virtkit: define through the test driver (parse, post-parse, validate, store, event).
const loader = new PluginLoader({ roots: [], pluginPath: join(here, '..', '..', 'driver-test') });
const conn = await Connection.open('test:///default', { loader });
const N = 5000;
for (let i = 0; i < 500; i++) await conn.defineDomainXml(testXml);
let t = process.hrtime.bigint();
for (let i = 0; i < N; i++) await conn.defineDomainXml(testXml);
const vkDefine = Number(process.hrtime.bigint() - t) / 1e6 / N;
await conn.close();

// libvirt 9.0: the same defines through python3-libvirt and libvirt's test driver.
let lvDefine = NaN;
if (ensureDebianPackages(['python3-libvirt'])) {
  const py = `
import libvirt, sys, time
xml = sys.stdin.read()
c = libvirt.open('test:///default')
for i in range(500): c.defineXML(xml)
n = ${N}
t = time.perf_counter()
for i in range(n): c.defineXML(xml)
print((time.perf_counter() - t) * 1000 / n)
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: testXml, encoding: 'utf8' });
  if (r.status === 0) lvDefine = Number(r.stdout.trim());
  else console.log(`libvirt side failed: ${r.stderr.trim().split('\n').pop()}`);
}
report('domain parse+format', median(samples), NaN, lvDefine);
report('domain define (test driver)', vkDefine, NaN, lvDefine);
console.log(
  `  parse+format median ${(median(samples) * 1000).toFixed(1)} µs, p95 ${(percentile(samples, 95) * 1000).toFixed(1)} µs; ` +
    `define ${(1000 / vkDefine).toFixed(0)}/s virtkit vs ${Number.isFinite(lvDefine) ? (1000 / lvDefine).toFixed(0) : 'n/a'}/s libvirt`,
);
