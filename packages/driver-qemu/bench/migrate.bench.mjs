#!/usr/bin/env node
// Live migration against its limit, side by side in one run:
//   virtkit  — the test guest (256 MiB, booted to its shell) moved between two
//              hosts' state folders: (a) with the API in one process
//              (dom.migrateTo between two qemu:///embed connections), and
//              (b) through two virtkitd daemons over their unix sockets
//              (qemu+unix, client-driven: every phase is a call of the wire
//              protocol)
//   limit    — QEMU's own migration driven with bare QMP: the same command
//              line, a second QEMU with -incoming defer, migrate-incoming on
//              a TCP port, migrate, poll query-migrate, cont, end the source
// The guest is the test guest booted to its shell with 128 MiB of random
// data written into its RAM, so each migration moves ~170 MiB.
// Measured: total time (from the call to the guest running on the other
// side, the source ended) and QEMU's downtime (the pause at the switch-over,
// query-migrate's `downtime`). libvirt cannot migrate to its own host, so
// there is no peer column. Everything runs on 127.0.0.1 under TCG.
//
//   node packages/driver-qemu/bench/migrate.bench.mjs      (BENCH_RUNS=10; BENCH_VERBOSE=1 prints each run)
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { constants, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ReadStream } from 'node:tty';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, now, report } from '../../../bench/lib.mjs';
import { rawQemu, rawStop } from './raw-qemu.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '../..');
const VIRTKITD = join(repo, 'packages/remote/dist/virtkitd.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'vk-mig-bench-'));

for (const f of [join(pkgDir, 'dist/index.js'), VIRTKITD]) {
  if (!existsSync(f)) {
    console.error(`build first (pnpm build): ${f} is missing`);
    process.exit(1);
  }
}
const { Connection, PluginLoader } = await import('@virtkit/core');
const qemu = await import(join(pkgDir, 'dist/index.js'));
const { buildTestGuest, SerialConsole, testGuestDomainXml, killQemusMatching } = await import(join(pkgDir, 'dist/test-support.js'));
const pluginPath = [pkgDir, join(repo, 'packages/remote')].join(':');
const loader = new PluginLoader({ roots: [], pluginPath });
const guest = await buildTestGuest();
const xmlOf = (name, uuid) => testGuestDomainXml(guest, name, { uuid, memoryMiB: 256 });

// What the guest holds: 128 MiB of random data in its RAM (a tmpfs file), so each migration moves real memory.
const FILL = 'dd if=/dev/urandom of=/tmp/fill bs=1M count=128 2>/dev/null; echo filled';

/** Boots to the shell and fills the guest's memory. */
async function prepareGuest(stream) {
  const con = SerialConsole.fromStream(stream);
  con.write('\n');
  await con.waitFor(guest.prompt, 60_000);
  await con.run(FILL, 120_000);
  con.close();
}

/** A pty opened raw (as the driver's console does). */
function openPty(path) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  const s = new ReadStream(fd);
  s.setRawMode(true);
  return s;
}

// ---------------------------------------------------------------- virtkit

/** A guest that migrates back and forth between two connections, one step at a time. */
async function virtkitMover(label, a, b) {
  const uuid = randomUUID();
  let src = await a.createDomainXml(xmlOf(`vkmb-${label}`, uuid));
  await prepareGuest(await src.openConsole());
  let at = 0;
  const ends = [a, b];
  return {
    label,
    async step() {
      const dst = ends[(at + 1) % 2];
      const t = now();
      const moved = await src.migrateTo(dst, { live: true });
      const ms = now() - t;
      const info = await moved.getJobInfo({ completed: true });
      src = moved;
      at = (at + 1) % 2;
      return { ms, downtime: info.downtimeMs ?? NaN, data: info.dataProcessed, iterations: info.memIteration };
    },
    async close() {
      await src.destroy().catch(() => {});
    },
  };
}

function startDaemon(name) {
  const root = join(dir, `d-${name}`);
  const sock = join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [VIRTKITD, '--root', root, '--listen-unix', sock, '--listen-unix-ro', `${sock}-ro`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, VIRTKIT_PLUGIN_PATH: pluginPath, VIRTKIT_NO_AUTOSTART: '1' },
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (log.includes('virtkitd started')) {
        clearInterval(t);
        resolve({ child, uri: `qemu+unix:///system?socket=${sock}` });
      } else if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`virtkitd exited: ${log}`));
      }
    }, 20);
  });
}

// ---------------------------------------------------------------- raw QEMU over QMP (the limit)

/** The argv virtkit runs for the guest (same machine, devices, options), without its console pty. */
async function rawArgs(name, uuid, id) {
  const conn = await Connection.open(`qemu:///embed?root=${dir}/raw-ctx`, { loader });
  try {
    const domains = conn.driver.domains;
    const def = await domains.parse(xmlOf(name, uuid));
    const caps = await domains.ctx.caps();
    const runDir = domains.ctx.paths.runDir(id, name);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'master-key.aes'), randomBytes(32));
    return qemu.runtimeCommandLine(domains.ctx, def, caps, { id, accel: 'tcg', runDir }).args;
  } finally {
    await conn.close();
  }
}

const rawStart = (args, extra = []) => rawQemu(dir, [...args, ...extra]);

/** The same guest moved by bare QMP between two QEMUs, one step at a time. */
async function rawMover() {
  const uuid = randomUUID();
  const args = await rawArgs('vkmb-raw', uuid, 1);
  let src = await rawStart(args);
  await src.q.call('cont');
  const pty = (await src.q.call('query-chardev')).find((c) => c.label === 'charserial0').filename.replace(/^pty:/, '');
  await prepareGuest(openPty(pty));
  return {
    label: 'raw',
    async step() {
      const t = now();
      const dst = await rawStart(args, ['-incoming', 'defer']);
      await dst.q.call('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
      await dst.q.call('migrate-incoming', { uri: 'tcp:127.0.0.1:0' });
      const port = (await dst.q.call('query-migrate'))['socket-address'][0].port;
      await src.q.call('migrate-set-parameters', { 'max-bandwidth': 2 ** 53 - 1 });
      await src.q.call('migrate', { uri: `tcp:127.0.0.1:${port}` });
      let m;
      for (;;) {
        m = await src.q.call('query-migrate');
        if (m.status === 'completed') break;
        if (m.status === 'failed') throw new Error(`raw migration failed: ${m['error-desc']}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      for (;;) {
        if ((await dst.q.call('query-migrate')).status === 'completed') break;
        await new Promise((r) => setTimeout(r, 2));
      }
      await dst.q.call('cont');
      await rawStop(src);
      const ms = now() - t;
      src = dst;
      return { ms, downtime: m.downtime, data: m.ram.transferred, iterations: m.ram['dirty-sync-count'] };
    },
    async close() {
      await rawStop(src).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------- run

const cleanup = [];
try {
  const raw = await rawMover();
  cleanup.push(() => raw.close());
  const apiA = await Connection.open(`qemu:///embed?root=${dir}/api-a`, { loader });
  const apiB = await Connection.open(`qemu:///embed?root=${dir}/api-b`, { loader });
  cleanup.push(() => apiA.close(), () => apiB.close());
  const api = await virtkitMover('api', apiA, apiB);
  cleanup.push(() => api.close());
  const da = await startDaemon('a');
  const db = await startDaemon('b');
  cleanup.push(async () => {
    for (const d of [da, db]) {
      d.child.kill('SIGTERM');
      await new Promise((r) => d.child.once('exit', r));
    }
  });
  const dA = await Connection.open(da.uri, { loader });
  const dB = await Connection.open(db.uri, { loader });
  cleanup.push(() => dA.close(), () => dB.close());
  const daemons = await virtkitMover('daemons', dA, dB);
  cleanup.push(() => daemons.close());

  // Rounds interleave the three, so drift on a busy machine hits them alike; the first round warms up.
  const movers = [raw, api, daemons];
  const res = { raw: { total: [], downtime: [] }, api: { total: [], downtime: [] }, daemons: { total: [], downtime: [] } };
  for (let round = 0; round <= RUNS; round++) {
    for (const m of movers) {
      const r = await m.step();
      if (process.env.BENCH_VERBOSE) console.log(m.label, Math.round(r.ms), 'ms, downtime', r.downtime, 'ms,', r.data, 'bytes,', r.iterations, 'passes');
      if (round === 0) continue;
      res[m.label].total.push(r.ms);
      res[m.label].downtime.push(r.downtime);
    }
  }
  console.log(`live migration of a 256 MiB guest (booted, 128 MiB of its RAM filled), TCG, 127.0.0.1, medians of ${RUNS} runs`);
  report('total time (API, one process)', median(res.api.total), median(res.raw.total), NaN);
  report('total time (two virtkitd, +unix)', median(res.daemons.total), median(res.raw.total), NaN);
  report('downtime (API, one process)', median(res.api.downtime), median(res.raw.downtime), NaN);
  report('downtime (two virtkitd, +unix)', median(res.daemons.downtime), median(res.raw.downtime), NaN);
} finally {
  for (const c of cleanup.reverse()) await Promise.resolve().then(c).catch(() => {});
  await killQemusMatching(dir);
  rmSync(dir, { recursive: true, force: true });
}
