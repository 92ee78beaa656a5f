// virtkitd against libvirtd 9.0, side by side, both serving test:///default
// over a unix socket to a client on the same host:
//  - lookup + info: sequential calls per second and p50/p99 latency of the pair,
//    and calls per second with 16 callers sharing one connection;
//  - event delivery: from issuing a start on one connection until another
//    connection receives the 'started' lifecycle event.
// The limit is a bare request/response over a unix socket in Node (what the
// transport alone costs). libvirtd runs as `nobody` in session mode under a
// temp folder (no bridges, no default network) and is stopped at the end;
// python3-libvirt is its client.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, median, now, percentile, report } from '../../../bench/lib.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
// Resolved from this package's node_modules, as the remote driver finds it.
const { Connection } = await import('@virtkit/core');
const N = Number(process.env.BENCH_CALLS ?? 5000);
const CONCURRENCY = 16;
const EVENTS = 200;
const work = mkdtempSync(join(tmpdir(), 'vkbench-'));
const children = [];

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);

async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`${what} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const answers = (path) =>
  new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

// ------------------------------------------------------------ the limit

async function bareRoundTrips(n) {
  const path = join(work, 'echo.sock');
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise((r) => server.listen(path, r));
  const sock = connect({ path });
  await new Promise((r) => sock.once('connect', r));
  sock.setNoDelay?.(true);
  const lat = [];
  let pending;
  sock.on('data', () => pending?.());
  const msg = Buffer.alloc(64, 1);
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const t = now();
    // Two round trips, as lookup + info makes.
    for (let k = 0; k < 2; k++) await new Promise((r) => ((pending = r), sock.write(msg)));
    lat.push(now() - t);
  }
  const total = now() - t0;
  sock.destroy();
  server.close();
  return { lat, callsPerSec: (2 * n) / (total / 1000) };
}

// ------------------------------------------------------------ virtkit

async function virtkitSide() {
  const dir = join(work, 'vk');
  mkdirSync(dir);
  const sock = join(dir, 's');
  const d = spawn(process.execPath, [join(pkg, 'dist', 'virtkitd.js'), '--root', join(dir, 'root'), '--listen-unix', sock, '--listen-unix-ro', `${sock}-ro`, '--log-level', 'warn'], {
    stdio: 'ignore',
  });
  children.push(d);
  await waitFor(() => answers(sock), 15000, 'virtkitd');
  const uri = `test+unix:///default?socket=${sock}`;
  const conn = await Connection.open(uri);
  for (let i = 0; i < 500; i++) await (await conn.lookupDomainByName('test')).getInfo();

  const lat = [];
  const t0 = now();
  for (let i = 0; i < N; i++) {
    const t = now();
    const dom = await conn.lookupDomainByName('test');
    await dom.getInfo();
    lat.push(now() - t);
  }
  const seqCallsPerSec = (2 * N) / ((now() - t0) / 1000);

  const per = Math.ceil(N / CONCURRENCY);
  const t1 = now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < per; i++) await (await conn.lookupDomainByName('test')).getInfo();
    }),
  );
  const concCallsPerSec = (2 * per * CONCURRENCY) / ((now() - t1) / 1000);

  const watcher = await Connection.open(uri);
  const dom = await conn.defineDomainXml(
    "<domain type='test'><name>bench-events</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>",
  );
  let waiting;
  watcher.on('domain', (e) => {
    if (e.type === 'started' && e.domain.name === 'bench-events') waiting?.();
  });
  const evLat = [];
  for (let i = 0; i < EVENTS; i++) {
    const got = new Promise((r) => (waiting = r));
    const t = now();
    await dom.start();
    await got;
    evLat.push(now() - t);
    await dom.destroy();
  }
  await dom.undefine();
  await watcher.close();
  await conn.close();
  d.kill('SIGTERM');
  return { lat, seqCallsPerSec, concCallsPerSec, evLat };
}

// ------------------------------------------------------------ libvirt

const PY = String.raw`
import json, sys, threading, time, libvirt
uri, n, conc, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open(uri)
for i in range(500):
    c.lookupByName('test').info()
lat = []
t0 = time.perf_counter()
for i in range(n):
    t = time.perf_counter()
    c.lookupByName('test').info()
    lat.append((time.perf_counter() - t) * 1000)
seq = 2 * n / (time.perf_counter() - t0)
per = (n + conc - 1) // conc
def worker():
    for i in range(per):
        c.lookupByName('test').info()
ts = [threading.Thread(target=worker) for _ in range(conc)]
t1 = time.perf_counter()
for t in ts: t.start()
for t in ts: t.join()
concr = 2 * per * conc / (time.perf_counter() - t1)
w = libvirt.open(uri)
started = threading.Event()
def cb(conn, dom, event, detail, opaque):
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED and dom.name() == 'bench-events':
        started.set()
w.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
d = c.defineXML("<domain type='test'><name>bench-events</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>")
ev = []
for i in range(events):
    started.clear()
    t = time.perf_counter()
    d.create()
    started.wait(5)
    ev.append((time.perf_counter() - t) * 1000)
    d.destroy()
d.undefine()
print(json.dumps({'lat': lat, 'seqCallsPerSec': seq, 'concCallsPerSec': concr, 'evLat': ev}))
`;

async function libvirtSide() {
  if (!ensureDebianPackages(['libvirt-daemon', 'python3-libvirt'])) return undefined;
  const base = join(work, 'lv');
  // libvirtd runs as nobody: it must be able to pass through the work folder.
  chmodSync(work, 0o711);
  for (const sub of ['home', 'run', 'config', 'cache']) mkdirSync(join(base, sub), { recursive: true, mode: 0o700 });
  const nobody = Number(spawnSync('id', ['-u', 'nobody']).stdout.toString().trim());
  for (const sub of ['', 'home', 'run', 'config', 'cache']) chownSync(join(base, sub), nobody, -1);
  const env = { HOME: join(base, 'home'), XDG_RUNTIME_DIR: join(base, 'run'), XDG_CONFIG_HOME: join(base, 'config'), XDG_CACHE_HOME: join(base, 'cache'), PATH: process.env.PATH };
  // Session mode as an unprivileged user: no network driver, nothing host-wide.
  const d = spawn('runuser', ['-u', 'nobody', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'libvirtd'], { stdio: 'ignore' });
  children.push(d);
  const sock = join(base, 'run', 'libvirt', 'libvirt-sock');
  try {
    await waitFor(() => answers(sock), 20000, 'libvirtd');
    const r = spawnSync('/usr/bin/python3', ['-c', PY, `test+unix:///default?socket=${sock}`, String(N), String(CONCURRENCY), String(EVENTS)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`python3-libvirt client failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    // Stop libvirtd itself (its pid file names it); runuser then exits and reaps it.
    const exited = new Promise((r) => (d.exitCode !== null ? r() : d.once('exit', r)));
    try {
      const pid = Number(readFileSync(join(base, 'run', 'libvirt', 'libvirtd.pid'), 'utf8').trim());
      if (pid > 1) process.kill(pid, 'SIGTERM');
    } catch {
      d.kill('SIGTERM');
    }
    const t = setTimeout(() => d.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
  }
}

function rate(label, vk, limit, lv) {
  const f = (x) => (Number.isFinite(x) ? `${Math.round(x)}/s` : 'n/a');
  const r = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(
    `${label.padEnd(40)} virtkit ${f(vk).padStart(12)}  limit ${f(limit).padStart(12)}  libvirt ${f(lv).padStart(12)}  ` +
      `vs limit ${r(vk, limit).padStart(7)}  vs libvirt ${r(vk, lv).padStart(7)}`,
  );
}

try {
  const limit = await bareRoundTrips(N);
  const vk = await virtkitSide();
  let lv;
  try {
    lv = await libvirtSide();
  } catch (err) {
    console.log(`(libvirt side skipped: ${err.message.split('\n')[0]})`);
  }
  const pick = (o, k) => (o ? o[k] : NaN);
  rate('lookup+info calls/s (sequential)', vk.seqCallsPerSec, limit.callsPerSec, pick(lv, 'seqCallsPerSec'));
  rate(`lookup+info calls/s (${CONCURRENCY} callers)`, vk.concCallsPerSec, NaN, pick(lv, 'concCallsPerSec'));
  report('lookup+info p50 latency', median(vk.lat), median(limit.lat), lv ? median(lv.lat) : NaN);
  report('lookup+info p99 latency', percentile(vk.lat, 99), percentile(limit.lat, 99), lv ? percentile(lv.lat, 99) : NaN);
  report('event delivery p50 (start → event)', median(vk.evLat), NaN, lv ? median(lv.evLat) : NaN);
  report('event delivery p99 (start → event)', percentile(vk.evLat, 99), NaN, lv ? percentile(lv.evLat, 99) : NaN);
} finally {
  cleanup();
}
process.exit(0);
