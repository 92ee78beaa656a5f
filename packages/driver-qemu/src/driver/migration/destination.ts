import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  completedJob, parseMigrateUri, qemuTcpUri, VirtError,
  type DomainSummary, type MigrationFinishParams, type MigrationPrepareParams, type MigrationPrepared,
} from '@virtkit/core';
import { QemuProcess } from '../../process/qemu-process.js';
import type { QemuDomains } from '../domains.js';
import { DomainJob, runningJob } from '../jobs.js';
import { launchDomain } from '../launch.js';
import { monitors } from '../monitors.js';
import type { DomainRecord } from '../record.js';
import { isActive, type DomainView } from '../views.js';
import { ownMark } from './mark.js';
import type { QemuMigrationInfo } from './stats.js';
import { precreateDisks, removeVolumes, startNbdServer, stopNbdServer } from './storage.js';
import { feedIncoming } from './tunnel.js';

function invalid(msg: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { origin: 'qemu' });
}

/** How long finish waits for the rest of a stream the source already sent. */
const FINISH_WAIT_MS = 60_000;

const incomingSocket = (d: QemuDomains, rec: { id: number; name: string }) => join(d.paths.socketDir(rec.id, rec.name), 'migrate-in.sock');

/** Refuses a migration whose name or UUID belongs to another domain here (libvirt's virDomainObjListAdd checks). */
async function checkNoConflict(d: QemuDomains, name: string, uuid: string): Promise<void> {
  const sameName = await d.views.byName(name);
  if (sameName && sameName.uuid !== uuid) throw new VirtError('DOM_EXIST', `domain '${name}' already exists with uuid ${sameName.uuid}`, { origin: 'qemu' });
  if (!sameName) {
    const sameUuid = (await d.views.all()).find((v) => v.uuid === uuid);
    if (sameUuid) throw new VirtError('DOM_EXIST', `domain '${sameUuid.name}' already exists with uuid ${uuid}`, { origin: 'qemu' });
  }
}

/**
 * virDomainMigratePrepare3 (libvirt's qemuMigrationDstPrepare): starts the
 * incoming QEMU — the same command line as on the source, `-incoming
 * defer`, paused — precreates the images of copied disks and starts the
 * NBD server for them, and tells QEMU where the stream comes: a TCP port
 * (QEMU picks it) or, tunnelled, a unix socket. The run carries a
 * migration mark, so if this process dies before finish the next one to
 * look removes it.
 */
export async function migratePrepare(d: QemuDomains, xml: string, params: MigrationPrepareParams): Promise<MigrationPrepared> {
  const { flags, cookie } = params;
  const def = await d.parse(xml, { inactive: false, what: `the migrated XML of domain '${cookie.name}'` });
  if (def.uuid !== cookie.uuid) throw new VirtError('INVALID_ARG', `the migrated XML describes domain ${def.uuid}, not ${cookie.uuid}`, { origin: 'qemu' });
  if (flags.offline) {
    if (cookie.persistentXml) await d.parse(cookie.persistentXml, { what: `the definition of domain '${cookie.name}'` });
    await checkNoConflict(d, def.name, def.uuid);
    return { hostname: hostname() };
  }
  const listen = flags.listenAddress ?? '0.0.0.0';
  if (!/^([A-Za-z0-9.-]+|[0-9A-Fa-f:.]+)$/.test(listen)) throw new VirtError('INVALID_ARG', `listen address '${listen}' is not a host name or an IP address`, { origin: 'qemu' });
  const wantedPort = flags.migrateUri ? (parseMigrateUri(flags.migrateUri).port ?? 0) : 0;
  let result!: MigrationPrepared;
  let started: { name: string; uuid: string; id: number; record: DomainRecord } | undefined;
  await d.lockDriver('migrate-in', async () => {
    await checkNoConflict(d, def.name, def.uuid);
    await d.lockDomain(def.uuid, 'migrate-prepare', async () => {
      const cur = await d.views.byName(def.name);
      if (cur && isActive(cur)) throw invalid(`domain '${def.name}' is already active`);
      const created = cookie.disks?.length ? await precreateDisks(d.ctx, def.name, cookie.disks) : [];
      // The incoming job: what domjobinfo shows here until finish (then the source's statistics).
      const job = await DomainJob.start(d, { uuid: def.uuid, name: def.name }, 'migration-in');
      try {
        let port: number | undefined;
        let nbdPort: number | undefined;
        const { record, proc } = await launchDomain(d.ctx, {
          def,
          persistent: !!cur?.config,
          paused: true,
          runningReason: 'migrated',
          pausedReason: 'migration',
          incomingDefer: true,
          recordExtra: { migration: await ownMark('in', { createdVolumes: created, hadDefinition: !!cur?.config }) },
          ...(cur?.record ? { previous: cur.record } : {}),
          beforeCont: async (qmp, run) => {
            await qmp.execute('migrate-set-capabilities', {
              capabilities: [
                { capability: 'events', state: true },
                { capability: 'postcopy-ram', state: !!flags.postcopy },
                // Images stay inactive until the guest resumes here (libvirt sets it too).
                { capability: 'late-block-activate', state: true },
              ],
            });
            if (flags.tunnelled) {
              await qmp.execute('migrate-incoming', { uri: `unix:${incomingSocket(d, { id: run.id, name: def.name })}` });
            } else {
              await qmp.execute('migrate-incoming', { uri: qemuTcpUri(listen, wantedPort) });
              const mi = await qmp.execute<QemuMigrationInfo>('query-migrate');
              port = Number(mi['socket-address']?.find((a) => a.port)?.port ?? wantedPort);
            }
            if (cookie.disks?.length) nbdPort = await startNbdServer(qmp, run.live, cookie.disks, listen);
          },
        });
        monitors.release(proc);
        started = { name: record.name, uuid: record.uuid, id: record.id, record };
        result = { hostname: hostname(), listenAddress: listen, ...(port !== undefined ? { port } : {}), ...(nbdPort !== undefined ? { nbdPort } : {}) };
      } catch (err) {
        await job.end('failed', { errorMessage: (err as Error).message });
        await removeVolumes(d.ctx, created);
        throw err;
      }
    });
  });
  const s = started!;
  d.ctx.emit('started', 'migrated', { name: s.name, uuid: s.uuid, id: s.id });
  // An incoming QEMU whose stream breaks exits: this process notices and records it.
  d.watchRun({ name: s.name, uuid: s.uuid, record: s.record });
  return result;
}

/** Tunnelled: writes the stream that came through the daemons' connection into the incoming QEMU. */
export async function migrateIncoming(d: QemuDomains, uuid: string, data: Readable): Promise<void> {
  const v = await d.views.byUuid(uuid);
  if (!isActive(v) || v.record.migration?.role !== 'in') throw invalid(`no incoming migration waits for domain '${v.name}'`);
  try {
    await feedIncoming(incomingSocket(d, { id: v.record.id, name: v.name }), data, v.name);
  } catch (err) {
    // QEMU closes its end once it loaded the whole state, maybe before the stream's end arrived: that is success.
    const status = await d
      .activeJob(uuid, 'migrate-incoming', (j) => j.qmp.execute<QemuMigrationInfo>('query-migrate'))
      .then((m) => m.status, () => undefined);
    if (status !== 'completed' && status !== 'postcopy-active') throw err;
    data.resume();
  }
}

/**
 * Removes an incoming guest that will not run here: its QEMU, the run's
 * files, the volumes created for it; a definition it had before stays.
 * Emits `stopped failed` (libvirt's event for a cancelled incoming migration).
 */
export async function abandonIncoming(d: QemuDomains, v: DomainView): Promise<void> {
  const rec = v.record;
  if (!rec?.process) return;
  const proc = monitors.known(rec.process) ?? QemuProcess.detached(rec.process);
  await proc.destroy({ graceMs: 500 }).catch(() => {});
  // recordStop removes the volumes created for it and ends the incoming job (the record's mark says which).
  await d.recordStop({ ...rec, persistent: !!v.config }, { reason: 'failed', detail: 'failed' });
}

/** Waits until the incoming stream is all in; resumes the guest at once when post-copy runs. */
async function waitIncomingDone(d: QemuDomains, uuid: string, name: string, onPostcopy: () => Promise<void>): Promise<QemuMigrationInfo> {
  return d.activeJob(uuid, 'migrate-finish', async (j) => {
    const end = Date.now() + FINISH_WAIT_MS;
    let resumed = false;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      const m = await j.qmp.execute<QemuMigrationInfo>('query-migrate');
      if (m.status === 'completed') return m;
      if (m.status === 'postcopy-active' && !resumed) {
        resumed = true;
        await j.qmp.execute('cont');
        await onPostcopy();
      }
      if (m.status === 'failed' || m.status === 'cancelled') {
        throw new VirtError('OPERATION_FAILED', `operation failed: domain '${name}': the incoming migration failed${m['error-desc'] ? `: ${m['error-desc']}` : ''}`, { origin: 'qemu' });
      }
      if (Date.now() > end && !resumed) throw new VirtError('OPERATION_TIMEOUT', `domain '${name}': the incoming migration did not complete within ${FINISH_WAIT_MS / 1000} s`, { origin: 'qemu' });
      await new Promise((r) => setTimeout(r, delay));
    }
  });
}

/**
 * virDomainMigrateFinish3 (libvirt's qemuMigrationDstFinish): once all of
 * the stream is in, stops the NBD server, defines the domain with
 * `persistent`, and resumes the guest (`resumed migrated`) unless
 * `paused`. With `cancelled` it removes everything prepare made.
 */
export async function migrateFinish(d: QemuDomains, uuid: string, params: MigrationFinishParams): Promise<DomainSummary | null> {
  const { flags, cookie, cancelled } = params;
  if (flags.offline) {
    if (cancelled) return null;
    if (!cookie.persistentXml) throw new VirtError('INVALID_ARG', `offline migration of domain '${cookie.name}' carries no definition`, { origin: 'qemu' });
    return d.defineDomain(cookie.persistentXml);
  }
  let out: { summary: DomainSummary | null; events: Array<() => void> } = { summary: null, events: [] };
  await d.lockDomain(uuid, 'migrate-finish', async () => {
    const v = await d.views.find({ uuid }).catch(() => undefined);
    const mark = v?.record?.migration;
    if (!v || !isActive(v) || mark?.role !== 'in') {
      if (cancelled) return;
      throw new VirtError('OPERATION_FAILED', `operation failed: domain '${cookie.name}': the incoming guest is gone (its QEMU ended before the migration finished)`, { origin: 'qemu' });
    }
    if (cancelled) {
      await abandonIncoming(d, v);
      return;
    }
    const dom = { name: v.name, uuid, id: v.record.id };
    const resume = !flags.paused && cookie.wasRunning !== false;
    try {
      let postcopyResumed = false;
      const final = await waitIncomingDone(d, uuid, v.name, async () => {
        postcopyResumed = true;
        await d.ctx.store.writeRecord({ ...v.record, state: 'running', reason: 'postcopy' });
        out.events.push(() => d.ctx.emit('resumed', 'postcopy', dom));
      });
      void final;
      let persistent = v.record.persistent;
      if (flags.persistent) {
        const def = await d.parse(cookie.persistentXml ?? (await d.getXml(uuid, { inactive: true, migratable: true })), { what: `the definition of domain '${v.name}'` });
        await d.saveConfig(def);
        out.events.push(() => d.ctx.emit('defined', v.config ? 'updated' : 'added', dom));
        persistent = true;
      }
      await d.activeJob(uuid, 'migrate-finish', async (j) => {
        if (cookie.disks?.length) await stopNbdServer(j.qmp);
        const { migration: _m, ...rec } = j.record;
        void _m;
        if (resume && !postcopyResumed) {
          await d.ctx.store.writeRecord({ ...rec, persistent, state: 'running', reason: 'migrated' });
          await j.qmp.execute('cont');
          out.events.push(() => d.ctx.emit('resumed', 'migrated', dom));
        } else {
          await d.ctx.store.writeRecord({ ...rec, persistent, state: postcopyResumed ? 'running' : 'paused', reason: postcopyResumed ? 'migrated' : 'user' });
          if (!postcopyResumed) out.events.push(() => d.ctx.emit('suspended', 'paused', dom));
        }
      });
      await runningJob(d, uuid)?.end('completed', params.stats ? completedJob({ ...params.stats, operation: 'migration-in' }) : {});
      out = { ...out, summary: await d.lookupDomain({ uuid }) };
    } catch (err) {
      const again = await d.views.find({ uuid }).catch(() => undefined);
      if (again && isActive(again)) await abandonIncoming(d, again).catch(() => {});
      throw err;
    }
  });
  for (const e of out.events) e();
  return out.summary;
}

/**
 * A migration whose driving process died (a killed virtkitd, a program
 * that crashed): an incoming guest is removed, an outgoing one is
 * cancelled and resumed — what libvirt's qemuProcessRecoverMigration does
 * when its daemon restarts. Runs under the domain's lock.
 */
export async function recoverMigration(d: QemuDomains, v: DomainView): Promise<void> {
  const mark = v.record?.migration;
  if (!mark || !isActive(v)) return;
  if (mark.role === 'in') {
    await abandonIncoming(d, v);
    return;
  }
  await d.activeJob(v.uuid, 'migrate-recover', async (j) => {
    const m = await j.qmp.execute<QemuMigrationInfo>('query-migrate').catch(() => ({}) as QemuMigrationInfo);
    if (m.status === 'completed' || m.status === 'postcopy-active') {
      // The destination got the guest (or runs it): the source can only stay paused; leave it to the user.
      const { migration: _m, ...rec } = j.record;
      void _m;
      await d.ctx.store.writeRecord({ ...rec, state: 'paused', reason: 'migration' });
      return;
    }
    if (m.status && !['failed', 'cancelled', 'none'].includes(m.status)) await j.qmp.execute('migrate_cancel').catch(() => {});
    for (const job of await j.qmp.execute<Array<{ device: string }>>('query-block-jobs').catch(() => [])) {
      if (job.device.startsWith('drive-')) await j.qmp.execute('block-job-cancel', { device: job.device, force: true }).catch(() => {});
    }
    const st = await j.qmp.execute<{ status: string }>('query-status');
    const { migration: _m, ...rec } = j.record;
    void _m;
    if (mark.wasRunning && st.status !== 'running') {
      await j.qmp.execute('cont');
      await d.ctx.store.writeRecord({ ...rec, state: 'running', reason: 'migration_canceled' });
      d.ctx.emit('resumed', 'migrated', { name: v.name, uuid: v.uuid, id: rec.id });
    } else {
      await d.ctx.store.writeRecord(rec);
    }
  });
}
