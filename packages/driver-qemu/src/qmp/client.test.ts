import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { QemuProcess } from '../process/qemu-process.js';
import { QmpClient } from './client.js';
import { QmpCommandError } from './errors.js';

const runNode = (args: string[], opts: { timeout: number }) => promisify(execFile)(process.execPath, args, opts);

let dir: string;
const started: QemuProcess[] = [];

async function startQemu(): Promise<QemuProcess> {
  const q = await QemuProcess.launch({
    name: 'qmp-test',
    uuid: randomUUID(),
    runDir: await mkdtemp(join(dir, 'run-')),
    paused: true,
    args: ['-machine', 'none,accel=tcg', '-nodefaults', '-no-user-config', '-display', 'none'],
  });
  started.push(q);
  return q;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtkit-qmp-test-'));
});

afterEach(async () => {
  for (const q of started.splice(0)) {
    try {
      process.kill(q.pid, 'SIGCONT');
    } catch {
      // gone
    }
    await q.destroy({ graceMs: 200 }).catch(() => {});
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('QmpClient against a real QEMU', () => {
  it('reads the greeting, negotiates and runs commands', async () => {
    const q = await startQemu();
    const qmp = q.qmp!;
    expect(qmp.greeting.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(await qmp.execute('query-status')).toMatchObject({ running: false, status: 'prelaunch' });
    // QEMU serves one client per monitor socket: after closing ours, a new one connects.
    await q.close();
    const again = await QmpClient.connect(q.state.monitorPath, { domain: 'qmp-test' });
    expect(await again.execute<{ qemu: { major: number } }>('query-version')).toHaveProperty('qemu.major');
    await again.close();
  });

  it('keeps many commands in flight and matches every reply to its call', async () => {
    const q = await startQemu();
    const calls = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? q.qmp!.execute<{ status: string }>('query-status').then((r) => r.status) : q.qmp!.execute<{ arch: string }>('query-target').then((r) => r.arch),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => expect(r).toBe(i % 2 === 0 ? 'prelaunch' : 'x86_64'));
  });

  it('turns QMP errors into OPERATION_FAILED naming the command and the domain', async () => {
    const q = await startQemu();
    const err = await q.qmp!.execute('no-such-command').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
    expect((err as QmpCommandError).errorClass).toBe('CommandNotFound');
    expect((err as Error).message).toMatch(/'no-such-command'.*domain 'qmp-test'/);
    // the connection stays usable
    expect(await q.qmp!.execute('query-status')).toHaveProperty('status');
  });

  it('delivers STOP and RESUME events on stop and cont', async () => {
    const q = await startQemu();
    const seen: string[] = [];
    q.qmp!.on('*', (e) => seen.push(e.event));
    const resumed = q.qmp!.waitForEvent('RESUME', { timeoutMs: 5000 });
    await q.qmp!.execute('cont');
    const ev = await resumed;
    expect(ev.timestamp.seconds).toBeGreaterThan(0);
    const stopped = q.qmp!.waitForEvent('STOP', { timeoutMs: 5000 });
    await q.qmp!.execute('stop');
    await stopped;
    expect(seen).toEqual(['RESUME', 'STOP']);
  });

  it('fails pending calls clearly when QEMU dies mid-call', async () => {
    const q = await startQemu();
    process.kill(q.pid, 'SIGSTOP'); // QEMU cannot answer: the calls stay pending
    const pending = [q.qmp!.execute('query-status'), q.qmp!.execute('query-version')].map((p) => p.catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 20));
    process.kill(q.pid, 'SIGKILL');
    for (const err of await Promise.all(pending)) {
      expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(/closed the connection while 'query-(status|version)' was pending/);
    }
    const info = await q.exited;
    expect(info.cause).toBe('crashed');
    const late = await q.qmp?.execute('query-status').catch((e: unknown) => e);
    if (late !== undefined) expect(VirtError.is(late)).toBe(true);
  });

  it('close() aborts pending calls and leaves QEMU running', async () => {
    const q = await startQemu();
    process.kill(q.pid, 'SIGSTOP');
    const qmp = q.qmp!;
    const pending = qmp.execute('query-status').catch((e: unknown) => e);
    await qmp.close();
    expect(VirtError.is(await pending, 'OPERATION_ABORTED')).toBe(true);
    expect((await qmp.closed).by).toBe('local');
    process.kill(q.pid, 'SIGCONT');
    expect(await QemuProcess.isRunning(q.state)).toBe(true);
  });

  it('an idle monitor does not keep a process alive, a pending reply does', async () => {
    const q = await startQemu();
    await q.close(); // QEMU serves one client: the other process takes the monitor
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    // Without setIdle the child would wait for its socket forever (the timeout below would end it).
    const script = `
      const { QmpClient } = await import(${JSON.stringify(dist)});
      const qmp = await QmpClient.connect(${JSON.stringify(q.state.monitorPath)}, { domain: 'qmp-test' });
      qmp.setIdle(true);
      qmp.execute('query-status').then((s) => console.log(s.status));`;
    const { stdout } = await runNode(['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('prelaunch');
  });

  it('times out a command that gets no answer', async () => {
    const q = await startQemu();
    process.kill(q.pid, 'SIGSTOP');
    const err = await q.qmp!.execute('query-status', undefined, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_TIMEOUT')).toBe(true);
    process.kill(q.pid, 'SIGCONT');
    // the late reply is dropped and the next call gets its own answer
    expect(await q.qmp!.execute<{ arch: string }>('query-target')).toEqual({ arch: 'x86_64' });
  });
});

describe('QmpClient against broken peers', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('refuses a socket where nothing listens', async () => {
    const err = await QmpClient.connect(join(dir, 'nothing.sock'), { domain: 'd' }).catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/domain 'd'.*ENOENT/);
  });

  it('refuses a peer that does not speak QMP', async () => {
    const path = join(dir, 'fake.sock');
    server = createServer((s) => s.end('hello, I am not QEMU\n'));
    await new Promise<void>((r) => server!.listen(path, r));
    const err = await QmpClient.connect(path).catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/not a QMP monitor/);
  });

  it('times out a silent peer', async () => {
    const path = join(dir, 'silent.sock');
    server = createServer(() => {});
    await new Promise<void>((r) => server!.listen(path, r));
    const err = await QmpClient.connect(path, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_TIMEOUT')).toBe(true);
  });
});
