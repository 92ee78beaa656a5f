// virtkitd against libvirtd 9.0, side by side, both serving test:///default
// over a unix socket to a client on the same host:
//  - lookup + info: sequential calls per second and p50/p99 latency of the pair,
//    and calls per second with 16 callers sharing one connection;
//  - event delivery: from issuing a start on one connection until another
//    connection receives the 'started' lifecycle event.
// Both daemons run at once and the two sides take turns, ROUNDS times, so
// a busy machine slows both alike; each figure is the median of the rounds.
// The limit is a bare request/response over a unix socket in Node (what the
// transport alone costs). libvirtd runs as `nobody` in session mode under a
// temp folder (no bridges, no default network) and is stopped at the end;
// python3-libvirt is its client.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, median, now, percentile, report } from '../../../bench/lib.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
// Resolved from this package's node_modules, as the remote driver finds it.
const { Connection } = await import('@virtkit/core');
const N = Number(process.env.BENCH_CALLS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;
const EVENTS = 200;
// Both sides warm up the same way (JIT tiers, caches) before anything is timed.
const WARMUP = 5000;
const DOMAIN_XML = "<domain type='test'><name>bench-events</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
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

async function bareRoundTrips() {
  const path = join(work, 'echo.sock');
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise((r) => server.listen(path, r));
  const sock = connect({ path });
  await new Promise((r) => sock.once('connect', r));
  let pending;
  sock.on('data', () => pending?.());
  const msg = Buffer.alloc(64, 1);
  const trip = () => new Promise((r) => ((pending = r), sock.write(msg)));
  for (let i = 0; i < WARMUP; i++) await trip();
  const round = async () => {
    const lat = [];
    const t0 = now();
    for (let i = 0; i < N; i++) {
      const t = now();
      // Two round trips, as lookup + info makes.
      await trip();
      await trip();
      lat.push(now() - t);
    }
    return { lat, seqCallsPerSec: (2 * N) / ((now() - t0) / 1000) };
  };
  return {
    round,
    close: () => {
      sock.destroy();
      server.close();
    },
  };
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
  const watcher = await Connection.open(uri);
  const dom = await conn.defineDomainXml(DOMAIN_XML);
  let waiting;
  watcher.on('domain', (e) => {
    if (e.type === 'started' && e.domain.name === 'bench-events') waiting?.();
  });
  for (let i = 0; i < WARMUP; i++) await (await conn.lookupDomainByName('test')).getInfo();
  for (let i = 0; i < WARMUP / 10; i++) {
    await dom.start();
    await dom.destroy();
  }

  const round = async () => {
    const lat = [];
    const t0 = now();
    for (let i = 0; i < N; i++) {
      const t = now();
      const h = await conn.lookupDomainByName('test');
      await h.getInfo();
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

    const evLat = [];
    for (let i = 0; i < EVENTS; i++) {
      const got = new Promise((r) => (waiting = r));
      const t = now();
      await dom.start();
      await got;
      evLat.push(now() - t);
      await dom.destroy();
    }
    return { lat, seqCallsPerSec, concCallsPerSec, evLat };
  };
  const close = async () => {
    await dom.undefine();
    await watcher.close();
    await conn.close();
    d.kill('SIGTERM');
  };
  return { round, close };
}

// ------------------------------------------------------------ libvirt

// One measurement round per line read on stdin; one JSON line out per round.
const PY = String.raw`
import json, sys, threading, time, libvirt
uri, n, conc, events, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open(uri)
w = libvirt.open(uri)
started = threading.Event()
def cb(conn, dom, event, detail, opaque):
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED and dom.name() == 'bench-events':
        started.set()
w.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
d = c.defineXML(sys.argv[6])
for i in range(warmup):
    c.lookupByName('test').info()
for i in range(warmup // 10):
    d.create()
    d.destroy()
print('ready', flush=True)
for line in sys.stdin:
    if line.strip() != 'round':
        break
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
    ev = []
    for i in range(events):
        started.clear()
        t = time.perf_counter()
        d.create()
        started.wait(5)
        ev.append((time.perf_counter() - t) * 1000)
        d.destroy()
    print(json.dumps({'lat': lat, 'seqCallsPerSec': seq, 'concCallsPerSec': concr, 'evLat': ev}), flush=True)
d.undefine()
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
  const stop = async () => {
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
  };
  const sock = join(base, 'run', 'libvirt', 'libvirt-sock');
  try {
    await waitFor(() => answers(sock), 20000, 'libvirtd');
  } catch (err) {
    await stop();
    throw err;
  }
  const py = spawn('/usr/bin/python3', ['-c', PY, `test+unix:///default?socket=${sock}`, String(N), String(CONCURRENCY), String(EVENTS), String(WARMUP), DOMAIN_XML], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(py);
  let stderr = '';
  py.stderr.on('data', (b) => (stderr += b));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`python3-libvirt client failed: ${stderr}`);
    return r.value;
  };
  try {
    await next(); // ready
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    round: async () => {
      py.stdin.write('round\n');
      return JSON.parse(await next());
    },
    close: async () => {
      py.stdin.end('done\n');
      await new Promise((r) => (py.exitCode !== null ? r() : py.once('exit', r)));
      await stop();
    },
  };
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
  const limit = await bareRoundTrips();
  const vk = await virtkitSide();
  let lv;
  try {
    lv = await libvirtSide();
  } catch (err) {
    console.log(`(libvirt side skipped: ${err.message.split('\n')[0]})`);
  }
  const rounds = { limit: [], vk: [], lv: [] };
  for (let i = 0; i < ROUNDS; i++) {
    rounds.limit.push(await limit.round());
    rounds.vk.push(await vk.round());
    if (lv) rounds.lv.push(await lv.round());
  }
  limit.close();
  await vk.close();
  await lv?.close();
  // Per round: the figure; over the rounds: the median.
  const over = (side, f) => (rounds[side].length ? median(rounds[side].map(f)) : NaN);
  rate('lookup+info calls/s (sequential)', over('vk', (r) => r.seqCallsPerSec), over('limit', (r) => r.seqCallsPerSec), over('lv', (r) => r.seqCallsPerSec));
  rate(`lookup+info calls/s (${CONCURRENCY} callers)`, over('vk', (r) => r.concCallsPerSec), NaN, over('lv', (r) => r.concCallsPerSec));
  report('lookup+info p50 latency', over('vk', (r) => median(r.lat)), over('limit', (r) => median(r.lat)), over('lv', (r) => median(r.lat)));
  report('lookup+info p99 latency', over('vk', (r) => percentile(r.lat, 99)), over('limit', (r) => percentile(r.lat, 99)), over('lv', (r) => percentile(r.lat, 99)));
  report('event delivery p50 (start → event)', over('vk', (r) => median(r.evLat)), NaN, over('lv', (r) => median(r.evLat)));
  report('event delivery p99 (start → event)', over('vk', (r) => percentile(r.evLat, 99)), NaN, over('lv', (r) => percentile(r.evLat, 99)));
  console.log(`(${ROUNDS} rounds of ${N} lookup+info pairs and ${EVENTS} events per side, taking turns; medians of the rounds)`);
} finally {
  cleanup();
}
process.exit(0);
