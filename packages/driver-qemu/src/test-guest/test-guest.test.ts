import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QemuProcess } from '../process/qemu-process.js';
import type { QmpHotpluggableCpu } from '../qmp/types.js';
import { buildTestGuest, type TestGuest } from './build.js';
import { writeCpio } from './cpio.js';
import { SerialConsole } from './serial-console.js';

let dir: string;
let guest: TestGuest;
let qemu: QemuProcess | undefined;
let serial: SerialConsole | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtkit-guest-test-'));
  guest = await buildTestGuest();
});

afterAll(async () => {
  serial?.close();
  await qemu?.destroy({ graceMs: 200 }).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('writeCpio', () => {
  it('writes newc headers and the trailer', () => {
    const buf = writeCpio([{ type: 'file', path: '/init', data: 'x', mode: 0o755 }]);
    expect(buf.subarray(0, 6).toString()).toBe('070701');
    expect(buf.toString('latin1')).toContain('init\0');
    expect(buf.toString('latin1')).toContain('TRAILER!!!\0');
    expect(buf.length % 4).toBe(0);
  });
});

describe('the test guest', () => {
  it('is cached by kernel version', async () => {
    const t0 = performance.now();
    const again = await buildTestGuest();
    expect(again.initrd).toBe(guest.initrd);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('boots to a shell on ttyS0, onlines a hot-plugged vCPU and powers off on system_powerdown', async () => {
    const serialPath = join(dir, 'serial.sock');
    const t0 = performance.now();
    qemu = await QemuProcess.launch({
      name: 'test-guest',
      uuid: randomUUID(),
      runDir: join(dir, 'run'),
      paused: true,
      args: [
        '-machine', 'pc,accel=tcg', '-m', '256', '-smp', '1,maxcpus=2', '-nodefaults', '-no-user-config', '-display', 'none',
        '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', guest.cmdline, '-no-reboot',
        '-chardev', `socket,id=serial0,path=${serialPath},server=on,wait=off`, '-serial', 'chardev:serial0',
      ],
    });
    // Connected while paused: nothing printed at boot is missed.
    serial = await SerialConsole.connect(serialPath);
    await qemu.qmp!.execute('cont');
    await serial.waitFor(guest.readyMarker, 30_000);
    await serial.waitFor(guest.prompt, 10_000);
    const bootMs = performance.now() - t0;
    console.log(`boot to prompt: ${bootMs.toFixed(0)} ms`);
    expect(await serial.run('echo hello from $(uname -r)')).toBe(`hello from ${guest.kernelVersion}`);
    expect(await serial.run('cat /sys/devices/system/cpu/online')).toBe('0');

    const cpus = await qemu.qmp!.execute<QmpHotpluggableCpu[]>('query-hotpluggable-cpus');
    const free = cpus.find((c) => c['qom-path'] === undefined)!;
    expect(free).toBeDefined();
    const t1 = performance.now();
    await qemu.qmp!.execute('device_add', { driver: free.type, id: 'vcpu1', ...free.props });
    let online = '';
    for (let i = 0; i < 50 && online !== '0-1'; i++) {
      online = await serial.run('cat /sys/devices/system/cpu/online');
      if (online !== '0-1') await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`hot-plugged vCPU online after ${(performance.now() - t1).toFixed(0)} ms`);
    expect(online).toBe('0-1');

    const t2 = performance.now();
    await qemu.qmp!.execute('system_powerdown');
    const info = await qemu.exited;
    console.log(`system_powerdown to exit: ${(performance.now() - t2).toFixed(0)} ms`);
    expect(info.cause).toBe('shutdown');
    expect(info.shutdown).toMatchObject({ guest: true, reason: 'guest-shutdown' });
    expect(info.code).toBe(0);
  });
});
