import { describe, expect, it } from 'vitest';
import type { DomainDriver, DomainSummary, JobContext, MigrationPerformParams } from './driver.js';
import { VirtError } from './errors.js';
import { checkMigrationFlags, parseMigrateUri, qemuTcpUri, runMigration } from './migration.js';

const UUID = '11111111-2222-3333-4444-555555555555';
const summary: DomainSummary = { id: 3, name: 'g', uuid: UUID, state: 'running', reason: 'migrated', persistent: false, autostart: false, managedSave: false };

/** Two fake ends that record the phases they see and fail where told. */
function ends(fail: Partial<Record<'prepare' | 'perform' | 'finish', Error>> = {}, perform?: (p: MigrationPerformParams, job?: JobContext) => Promise<void>) {
  const calls: string[] = [];
  const source = {
    async migrateBegin() {
      calls.push('begin');
      return { xml: '<domain/>', cookie: { name: 'g', uuid: UUID, hostname: 'a' } };
    },
    async migratePerform(_u: string, p: MigrationPerformParams, job?: JobContext) {
      calls.push(`perform ${p.uri ?? 'tunnel'}`);
      if (perform) await perform(p, job);
      if (fail.perform) throw fail.perform;
      return { stats: { type: 'completed' as const, downtimeMs: 12 } };
    },
    async migrateConfirm(_u: string, p: { cancelled: boolean }) {
      calls.push(`confirm${p.cancelled ? ' cancelled' : ''}`);
    },
  } as unknown as DomainDriver;
  const destination = {
    async migratePrepare() {
      calls.push('prepare');
      if (fail.prepare) throw fail.prepare;
      return { hostname: 'b', port: 49152 };
    },
    async migrateFinish(_u: string, p: { cancelled: boolean; stats?: { downtimeMs?: number } }) {
      calls.push(`finish${p.cancelled ? ' cancelled' : ` (downtime ${p.stats?.downtimeMs})`}`);
      if (!p.cancelled && fail.finish) throw fail.finish;
      return p.cancelled ? null : summary;
    },
  } as unknown as DomainDriver;
  return { calls, source, destination };
}

describe('runMigration (protocol v3)', () => {
  it('runs begin, prepare, perform, finish, confirm in order, sending the stream to the destination host', async () => {
    const e = ends();
    const r = await runMigration({ ...e, destinationUri: 'qemu+ssh://b/system', destinationHost: '10.0.0.2', peer2peer: false }, UUID, { live: true });
    expect(r).toEqual(summary);
    expect(e.calls).toEqual(['begin', 'prepare', 'perform tcp:10.0.0.2:49152', 'finish (downtime 12)', 'confirm']);
  });

  it('sends the stream where migrateUri says', async () => {
    const e = ends();
    await runMigration({ ...e, destinationUri: 'qemu+ssh://b/system', destinationHost: 'b', peer2peer: false }, UUID, { live: true, migrateUri: 'tcp://10.9.0.2' });
    expect(e.calls[2]).toBe('perform tcp:10.9.0.2:49152');
  });

  it('a refusing destination: the source confirms cancelled, nothing else runs', async () => {
    const e = ends({ prepare: new VirtError('DOM_EXIST', 'domain exists') });
    await expect(runMigration({ ...e, destinationUri: 'x', peer2peer: false }, UUID, { live: true })).rejects.toMatchObject({ code: 'DOM_EXIST' });
    expect(e.calls).toEqual(['begin', 'prepare', 'confirm cancelled']);
  });

  it('a failed perform: finish cancelled on the destination, confirm cancelled on the source', async () => {
    const e = ends({ perform: new VirtError('OPERATION_ABORTED', 'cancelled') });
    await expect(runMigration({ ...e, destinationUri: 'x', peer2peer: false }, UUID, { live: true })).rejects.toMatchObject({ code: 'OPERATION_ABORTED' });
    expect(e.calls).toEqual(['begin', 'prepare', 'perform tcp:b:49152', 'finish cancelled', 'confirm cancelled']);
  });

  it('a failed finish: the source takes the guest back', async () => {
    const e = ends({ finish: new VirtError('OPERATION_FAILED', 'cannot resume') });
    await expect(runMigration({ ...e, destinationUri: 'x', peer2peer: false }, UUID, { live: true })).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    expect(e.calls).toEqual(['begin', 'prepare', 'perform tcp:b:49152', 'finish (downtime 12)', 'confirm cancelled']);
  });

  it('a lost destination aborts the running perform and is the error reported', async () => {
    const lost = new AbortController();
    const e = ends({}, async (_p, job) => {
      setTimeout(() => lost.abort(new Error('keepalive timeout')), 10);
      await new Promise<void>((_resolve, reject) => job!.signal!.addEventListener('abort', () => reject(new VirtError('OPERATION_ABORTED', 'migration cancelled'))));
    });
    const err = await runMigration({ ...e, destinationUri: 'qemu+ssh://b/system', destinationLost: lost.signal, peer2peer: true }, UUID, { live: true }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(VirtError);
    expect(e.calls.slice(-2)).toEqual(['finish cancelled', 'confirm cancelled']);
  });

  it('offline: no perform', async () => {
    const e = ends();
    await runMigration({ ...e, destinationUri: 'x', peer2peer: false }, UUID, { offline: true, persistent: true });
    expect(e.calls).toEqual(['begin', 'prepare', 'finish (downtime undefined)', 'confirm']);
  });

  it('tunnelled: the stream goes through the destination driver', async () => {
    const e = ends({}, async (p) => {
      expect(p.uri).toBeUndefined();
      const { Readable } = await import('node:stream');
      await p.tunnel!(Readable.from([Buffer.from('qemu')]));
    });
    const got: string[] = [];
    (e.destination as unknown as Record<string, unknown>).migrateIncoming = async (_u: string, data: AsyncIterable<Buffer>) => {
      for await (const b of data) got.push(b.toString());
    };
    await runMigration({ ...e, destinationUri: 'x', peer2peer: true }, UUID, { live: true, tunnelled: true });
    expect(got).toEqual(['qemu']);
  });
});

describe('migration flags', () => {
  const bad = (f: Parameters<typeof checkMigrationFlags>[0], p2p = false) => expect(() => checkMigrationFlags(f, { peer2peer: p2p })).toThrow(VirtError);
  it('refuses what libvirt refuses', () => {
    bad({ offline: true });
    bad({ offline: true, persistent: true, live: true });
    bad({ tunnelled: true });
    bad({ copyStorage: 'all', tunnelled: true }, true);
    bad({ postcopyAfterPrecopy: true });
    bad({ live: true, timeoutMs: 1000, timeoutAction: 'postcopy' });
    bad({ timeoutMs: 1000 });
    bad({ migrateUri: 'rdma://x' });
    expect(() => checkMigrationFlags({ live: true, postcopy: true, timeoutMs: 5000, timeoutAction: 'postcopy' }, { peer2peer: false })).not.toThrow();
    expect(() => checkMigrationFlags({ tunnelled: true }, { peer2peer: true })).not.toThrow();
  });
  it('reads migrate URIs', () => {
    expect(parseMigrateUri('tcp://10.0.0.2')).toEqual({ host: '10.0.0.2' });
    expect(parseMigrateUri('tcp:10.0.0.2:49152')).toEqual({ host: '10.0.0.2', port: 49152 });
    expect(parseMigrateUri('tcp://[fd00::2]:4000')).toEqual({ host: 'fd00::2', port: 4000 });
    expect(qemuTcpUri('fd00::2', 1)).toBe('tcp:[fd00::2]:1');
  });
});
