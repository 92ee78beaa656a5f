#!/usr/bin/env node
// Baseline for the QEMU driver: the fastest start/stop cycle without it.
// Spawn QEMU paused with a QMP socket bound beforehand (passed as fd 3),
// read the greeting, qmp_capabilities, cont, quit, wait for the exit.
// With the package built, the same cycle through QemuProcess is measured too.
//
//   node bench/raw-qemu.mjs [runs=20] [machine=pc]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 20);
const machine = process.argv[3] ?? 'pc';
const ARGS = ['-machine', `${machine},accel=tcg`, '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none', '-S'];
const dir = mkdtempSync(join(tmpdir(), 'virtkit-bench-'));

function qmpReader(sock) {
  let buf = '';
  const waiting = [];
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (!msg.event) waiting.shift()?.(msg);
    }
  });
  return {
    next: () => new Promise((r) => waiting.push(r)),
    call: (execute) => {
      sock.write(JSON.stringify({ execute }) + '\n');
      return new Promise((r) => waiting.push(r));
    },
  };
}

async function rawCycle(i) {
  const t0 = performance.now();
  const path = join(dir, `m${i}.sock`);
  const server = createServer();
  // Bound under a temporary name: closing our copy of the server unlinks
  // that name, so the socket is renamed to its real path first.
  await new Promise((r) => server.listen(`${path}.tmp`, r));
  renameSync(`${path}.tmp`, path);
  const child = spawn('qemu-system-x86_64', [...ARGS, '-chardev', 'socket,id=mon,fd=3,server=on,wait=off', '-mon', 'chardev=mon,mode=control'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', server._handle.fd],
  });
  server.close();
  const exited = new Promise((r) => child.on('exit', r));
  const sock = connect(path);
  sock.on('error', (err) => {
    if (err.code !== 'ECONNRESET') throw err;
  });
  const q = qmpReader(sock);
  await q.next(); // greeting
  await q.call('qmp_capabilities');
  const handshake = performance.now() - t0;
  await q.call('cont');
  const running = performance.now() - t0;
  await q.call('quit');
  await exited;
  sock.destroy();
  return { handshake, running, total: performance.now() - t0 };
}

async function driverCycle(mod, i) {
  const t0 = performance.now();
  const q = await mod.QemuProcess.launch({ name: `bench${i}`, uuid: randomUUID(), runDir: join(dir, `d${i}`), args: ARGS.filter((a) => a !== '-S') });
  const running = performance.now() - t0;
  const t1 = performance.now();
  await q.destroy();
  return { handshake: NaN, running, destroy: performance.now() - t1, total: performance.now() - t0 };
}

function report(name, rows) {
  const stat = (k) => {
    const v = rows.map((r) => r[k]).filter((x) => !Number.isNaN(x) && x !== undefined).sort((a, b) => a - b);
    if (v.length === 0) return '-';
    return `${v[Math.floor(v.length / 2)].toFixed(1)} (min ${v[0].toFixed(1)}, max ${v.at(-1).toFixed(1)})`;
  };
  console.log(`${name}: ${rows.length} runs, median ms`);
  for (const k of ['handshake', 'running', 'destroy', 'total']) if (rows.some((r) => r[k] !== undefined && !Number.isNaN(r[k]))) console.log(`  ${k.padEnd(10)} ${stat(k)}`);
}

try {
  await rawCycle(-1); // warm the page cache
  const raw = [];
  for (let i = 0; i < runs; i++) raw.push(await rawCycle(i));
  report(`raw QEMU (${machine}, TCG): spawn -> greeting -> qmp_capabilities -> cont -> quit`, raw);
  const dist = new URL('../dist/index.js', import.meta.url);
  if (existsSync(dist)) {
    const mod = await import(dist.href);
    const drv = [];
    for (let i = 0; i < runs; i++) drv.push(await driverCycle(mod, i));
    report(`QemuProcess (${machine}, TCG): launch (running) -> destroy`, drv);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
