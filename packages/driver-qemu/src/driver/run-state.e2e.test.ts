import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, type DomainHandle } from '@virtkit/core';
import { QmpClient } from '../qmp/client.js';
import { buildTestGuest, tearDownEmbed, testGuestDomainXml, type TestGuest } from '../test-support.js';
import { OtherProcess } from './other-process.testlib.js';
import type { DomainRecord } from './record.js';

// QEMU's real run state against the record when nobody watched: a process
// killed between a QMP command and its record, or QEMU paused over QMP
// behind the driver's back. The next process asks QEMU, as libvirt does
// when it reconnects (qemuProcessUpdateState).
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
const root = mkdtempSync(join(tmpdir(), 'vk-qemu-runstate-'));
const uri = `qemu:///embed?root=${root}`;
const other = new OtherProcess(uri, pkgDir);
let guest: TestGuest;
let conn: Connection;

const recordOf = (name: string): DomainRecord => JSON.parse(readFileSync(join(root, 'run/qemu', `${name}.json`), 'utf8')) as DomainRecord;

/** A QMP command sent to the guest's QEMU by nobody the driver knows. */
async function behindTheBack<T>(name: string, command: string): Promise<T> {
  const qmp = await QmpClient.connect(recordOf(name).process!.monitorPath, { domain: name, timeoutMs: 10_000 });
  try {
    return await qmp.execute<T>(command);
  } finally {
    await qmp.close();
  }
}

const qemuStatus = (name: string) => behindTheBack<{ running: boolean; status: string }>(name, 'query-status');
const lookup = (name: string) => `const d = await conn.lookupDomainByName(${JSON.stringify(name)});`;
const printState = (label: string) => `console.log(${JSON.stringify(label)}, JSON.stringify(await d.getState()));`;

async function started(name: string): Promise<DomainHandle> {
  const d = await conn.defineDomainXml(testGuestDomainXml(guest, name));
  await d.start();
  return d;
}

beforeAll(async () => {
  guest = await buildTestGuest();
  conn = await Connection.open(uri, { loader });
}, 60_000);

afterAll(() => tearDownEmbed(conn, root), 60_000);

describe('QEMU\'s run state against the record, on re-attach', () => {
  it('a guest paused (or resumed) over QMP behind the driver\'s back: the next process reports QEMU\'s state, with the event', async () => {
    const d = await started('rs-back');
    try {
      await behindTheBack('rs-back', 'stop');
      const out = await other.run(`${lookup('rs-back')} ${printState('STATE')} await d.resume(); ${printState('AFTER')}`);
      expect(out).toContain('STATE {"state":"paused","reason":"user"}');
      expect(out).toContain('domain:suspended:paused');
      expect(out).toContain('AFTER {"state":"running","reason":"unpaused"}');
      expect(await qemuStatus('rs-back')).toMatchObject({ running: true, status: 'running' });
      // This process did not write that record either: it asks QEMU, and agrees.
      expect(await d.getState()).toEqual({ state: 'running', reason: 'unpaused' });

      await d.suspend();
      await behindTheBack('rs-back', 'cont');
      const out2 = await other.run(`${lookup('rs-back')} ${printState('STATE')}`);
      expect(out2).toContain('STATE {"state":"running","reason":"unpaused"}');
      expect(out2).toContain('domain:resumed:unpaused');
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('a suspend whose process is killed right after QEMU stopped: the next process finds it paused and resumes it', async () => {
    const d = await started('rs-suspend');
    try {
      const killed = await other.runUntilKilled(`${lookup('rs-suspend')} await d.suspend(); console.log('NOT KILLED');`, { after: 'stop' });
      expect(killed.signal).toBe('SIGKILL');
      expect(await qemuStatus('rs-suspend')).toMatchObject({ running: false, status: 'paused' });
      const out = await other.run(`${lookup('rs-suspend')} ${printState('STATE')} await d.resume(); ${printState('AFTER')}`);
      expect(out).toContain('STATE {"state":"paused","reason":"user"}');
      expect(out).toContain('AFTER {"state":"running","reason":"unpaused"}');
      expect(await qemuStatus('rs-suspend')).toMatchObject({ running: true });
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('a resume whose process is killed after its record but before cont: the next process reports paused (user), then resumes', async () => {
    const d = await started('rs-resume');
    try {
      await d.suspend();
      const killed = await other.runUntilKilled(`${lookup('rs-resume')} await d.resume(); console.log('NOT KILLED');`, { before: 'cont' });
      expect(killed.signal).toBe('SIGKILL');
      // The record says what the resume was about to do; QEMU never got the command.
      expect(recordOf('rs-resume')).toMatchObject({ state: 'running', reason: 'unpaused' });
      expect(await qemuStatus('rs-resume')).toMatchObject({ running: false });
      const out = await other.run(`${lookup('rs-resume')} ${printState('STATE')} await d.resume(); ${printState('AFTER')}`);
      expect(out).toContain('STATE {"state":"paused","reason":"user"}');
      expect(out).toContain('domain:suspended:paused');
      expect(out).toContain('AFTER {"state":"running","reason":"unpaused"}');
      expect(await qemuStatus('rs-resume')).toMatchObject({ running: true });
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('a save whose process is killed mid-way: the next process cancels it and the guest runs on', async () => {
    const d = await started('rs-save');
    const file = join(root, 'rs-save.save');
    try {
      const killed = await other.runUntilKilled(`${lookup('rs-save')} await d.save(${JSON.stringify(file)}); console.log('NOT KILLED');`, { after: 'migrate' });
      expect(killed.signal).toBe('SIGKILL');
      expect(recordOf('rs-save')).toMatchObject({ state: 'paused', reason: 'saving' });
      const out = await other.run(`${lookup('rs-save')} ${printState('STATE')}`);
      expect(out).toContain('STATE {"state":"running","reason":"unpaused"}');
      expect(out).toContain('domain:resumed:unpaused');
      expect(await qemuStatus('rs-save')).toMatchObject({ running: true, status: 'running' });
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('a start whose process is killed before the vCPUs run: the next process ends that QEMU and records the failure', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'rs-start'));
    try {
      const killed = await other.runUntilKilled(`${lookup('rs-start')} await d.start(); console.log('NOT KILLED');`, { before: 'cont' });
      expect(killed.signal).toBe('SIGKILL');
      const rec = recordOf('rs-start');
      expect(rec).toMatchObject({ state: 'paused', reason: 'starting_up' });
      expect(await qemuStatus('rs-start')).toMatchObject({ running: false, status: 'prelaunch' });
      const out = await other.run(`${lookup('rs-start')} ${printState('STATE')}`);
      expect(out).toContain('STATE {"state":"shutoff","reason":"failed"}');
      expect(out).toContain('domain:stopped:failed');
      expect(existsSync(`/proc/${rec.process!.pid}`) && !readFileSync(`/proc/${rec.process!.pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
      // It starts normally afterwards.
      await d.start();
      expect((await d.getState()).state).toBe('running');
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);
});
