import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { probeAccelerator } from './accel.js';
import { parseExitReason } from './log.js';
import { checkQemuIdentity, QemuProcess, type QemuRuntimeState } from './qemu-process.js';

const ARGS = ['-machine', 'pc,accel=tcg', '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none'];
let dir: string;
const started: QemuProcess[] = [];
const strayPids: number[] = [];

async function launch(extra: Partial<Parameters<typeof QemuProcess.launch>[0]> = {}): Promise<QemuProcess> {
  const q = await QemuProcess.launch({ name: 'proc-test', uuid: randomUUID(), runDir: await mkdtemp(join(dir, 'run-')), args: ARGS, ...extra });
  started.push(q);
  return q;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtkit-proc-test-'));
});

afterEach(async () => {
  for (const q of started.splice(0)) await q.destroy({ graceMs: 200 }).catch(() => {});
  for (const pid of strayPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('QemuProcess', () => {
  it('starts a guest running and destroys it fast', async () => {
    const t0 = performance.now();
    const q = await launch();
    const started = performance.now() - t0;
    expect(await q.qmp!.execute('query-status')).toMatchObject({ running: true, status: 'running' });
    expect(q.state.startTime).toBeGreaterThan(0);
    expect(await checkQemuIdentity(q.state)).toBeUndefined();
    const t1 = performance.now();
    const info = await q.destroy();
    const destroyMs = performance.now() - t1;
    console.log(`start-to-running ${started.toFixed(1)} ms, destroy ${destroyMs.toFixed(1)} ms`);
    expect(info.cause).toBe('destroyed');
    expect(destroyMs).toBeLessThan(100);
    expect(await QemuProcess.isRunning(q.state)).toBe(false);
    expect(existsSync(q.state.monitorPath)).toBe(false);
  });

  it('stays paused when asked', async () => {
    const q = await launch({ paused: true });
    expect(await q.qmp!.execute('query-status')).toMatchObject({ running: false, status: 'prelaunch' });
  });

  it("reports QEMU's own error when it fails to start", async () => {
    const err = await launch({ args: [...ARGS, '-device', 'no-such-device'] }).catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/domain 'proc-test': QEMU exited while starting: .*no-such-device/);
  });

  it('notices a QEMU killed behind its back, with the reason from the log', async () => {
    const q = await launch();
    process.kill(q.pid, 'SIGTERM');
    const info = await q.exited;
    expect(info.log.signal?.number).toBe(15);
    expect(info.shutdown?.reason).toBe('host-signal');
  });

  it('re-attaches to a QEMU started by a Node process that has exited', async () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    expect(existsSync(dist), 'build the package first (pnpm build)').toBe(true);
    const runDir = await mkdtemp(join(dir, 'detached-'));
    const uuid = randomUUID();
    const script = join(dir, 'spawner.mjs');
    await writeFile(
      script,
      `import { QemuProcess } from ${JSON.stringify(dist)};
const q = await QemuProcess.launch({ name: 'detached', uuid: ${JSON.stringify(uuid)}, runDir: ${JSON.stringify(runDir)}, args: ${JSON.stringify(ARGS)} });
await q.close();
process.stdout.write(JSON.stringify(q.state));
`,
    );
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.status, child.stderr).toBe(0);
    const state = JSON.parse(child.stdout) as QemuRuntimeState;
    strayPids.push(state.pid);
    expect(await QemuProcess.isRunning(state)).toBe(true);
    const q = await QemuProcess.attach(state);
    started.push(q);
    expect(await q.qmp!.execute('query-status')).toMatchObject({ status: 'running' });
    const t0 = performance.now();
    const info = await q.destroy();
    console.log(`destroy of a re-attached QEMU ${(performance.now() - t0).toFixed(1)} ms`);
    expect(info.cause).toBe('destroyed');
    expect(await QemuProcess.isRunning(state)).toBe(false);
    await expect(QemuProcess.attach(state)).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
  });

  it('never takes a recycled pid for the QEMU', async () => {
    const q = await launch();
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    strayPids.push(sleeper.pid!);
    // The saved state points at a pid now used by another program.
    const recycled: QemuRuntimeState = { ...q.state, pid: sleeper.pid! };
    expect(await checkQemuIdentity(recycled)).toMatch(/another process|not the QEMU/);
    expect(await QemuProcess.isRunning(recycled)).toBe(false);
    await expect(QemuProcess.attach(recycled)).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    // Same pid, other start time: also refused.
    expect(await QemuProcess.isRunning({ ...q.state, startTime: q.state.startTime + 1 })).toBe(false);
    expect(sleeper.exitCode).toBeNull();
    expect(await QemuProcess.isRunning(q.state)).toBe(true);
  });

  it('picks an accelerator once and caches it', async () => {
    const cacheDir = await mkdtemp(join(dir, 'cache-'));
    const first = await probeAccelerator({ cacheDir });
    expect(['kvm', 'tcg']).toContain(first.accel);
    const t0 = performance.now();
    expect(await probeAccelerator({ cacheDir })).toEqual(first);
    expect(performance.now() - t0).toBeLessThan(50);
    const kvmUsable = spawnSync('test', ['-w', '/dev/kvm']).status === 0;
    if (!kvmUsable) expect(first.accel).toBe('tcg');
  });
});

describe('parseExitReason', () => {
  it('reads the signal line and error lines', () => {
    expect(parseExitReason('qemu-system-x86_64: terminating on signal 15 from pid 42 (node)\n').summary).toBe('terminated by signal 15 from pid 42 (node)');
    const r = parseExitReason("qemu-system-x86_64: warning: host doesn't support requested feature\nqemu-system-x86_64: -device x: 'x' is not a valid device model name\n");
    expect(r.errors).toEqual(["qemu-system-x86_64: -device x: 'x' is not a valid device model name"]);
  });
});
