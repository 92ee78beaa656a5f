import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatDomainXml, VirtError, type DomainJobInfo, type DomainSaveOptions, type JobContext } from '@virtkit/core';
import type { QmpClient } from '../qmp/client.js';
import type { QemuDomains } from './domains.js';
import { DomainJob } from './jobs.js';
import type { DomainRecord } from './record.js';
import { isActive, type DomainView } from './views.js';
import { encodeSaveImageStart, readSaveImageStart, SAVE_MAGIC } from './save-image.js';

// QEMU's default migration speed is 32 MiB/s; saving to a file wants no limit (libvirt: QEMU_DOMAIN_MIG_BANDWIDTH_MAX).
export const UNLIMITED_BANDWIDTH = 2 ** 53 - 1;

interface MigrationStatus {
  status: string;
  ram?: { transferred?: number; total?: number; remaining?: number };
  'error-desc'?: string;
}

/** Progress of a save/restore job from QEMU's migration counters. */
function progressOf(job: DomainJob, m: MigrationStatus, ctx: JobContext | undefined, operation: string): void {
  if (!m.ram) return;
  const cur = job.snapshot();
  const total = m.ram.total ?? cur.memTotal ?? 0;
  const processed = m.ram.transferred ?? cur.memProcessed ?? 0;
  const remaining = Math.max(0, total - processed);
  job.update({ dataTotal: total, dataProcessed: processed, dataRemaining: remaining, memTotal: total, memProcessed: processed, memRemaining: remaining });
  ctx?.onProgress?.({ processed, total, operation });
}

/** Listens on a unix socket for QEMU's outgoing migration and writes it into the image after the header. */
async function receiveStream(sockPath: string, file: string, offset: number): Promise<{ server: Server; done: Promise<number> }> {
  await rm(sockPath, { force: true });
  await mkdir(dirname(sockPath), { recursive: true, mode: 0o700 });
  let resolveConn!: (s: Socket) => void;
  const conn = new Promise<Socket>((r) => (resolveConn = r));
  const server = createServer((s) => resolveConn(s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: sockPath, backlog: 1 }, () => resolve());
  });
  const done = conn.then(async (s) => {
    let bytes = 0;
    s.on('data', (b: Buffer) => (bytes += b.length));
    await pipeline(s, createWriteStream(file, { flags: 'r+', start: offset }));
    return bytes;
  });
  done.catch(() => {});
  return { server, done };
}

/** Polls query-migrate until the migration ends; reports progress; cancels on abort. */
async function followMigration(qmp: QmpClient, job: DomainJob, ctx: JobContext | undefined, name: string, operation: string): Promise<void> {
  let delay = 5;
  let cancelling = false;
  for (;;) {
    const m = await qmp.execute<MigrationStatus>('query-migrate');
    progressOf(job, m, ctx, operation);
    if (m.status === 'completed') return;
    if (m.status === 'failed') throw new VirtError('OPERATION_FAILED', `domain '${name}': ${operation} failed: ${m['error-desc'] ?? 'migration failed'}`, { origin: 'qemu' });
    if (m.status === 'cancelled') throw new VirtError('OPERATION_ABORTED', `domain '${name}': ${operation} was cancelled`, { origin: 'qemu' });
    const abortAsked = ctx?.signal?.aborted || (await job.abortRequested());
    if (abortAsked && !cancelling) {
      cancelling = true;
      await qmp.execute('migrate_cancel');
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * virDomainSave / virDomainManagedSave: pauses the guest, writes libvirt's
 * header with the live XML, lets QEMU migrate into the file (through a
 * unix socket this process copies from: QEMU's seccomp sandbox forbids
 * `exec:` and Node cannot pass descriptors over QMP), marks the image
 * complete, then ends QEMU. On failure or abort the guest runs on as it was.
 */
export async function saveToFile(d: QemuDomains, uuid: string, file: string, opts: DomainSaveOptions, ctx: JobContext | undefined, managed: boolean): Promise<void> {
  await d.activeJob(uuid, managed ? 'managedsave' : 'save', async (j) => {
    const { view, record, live, qmp, proc } = j;
    let xml = formatDomainXml(live, { secure: true, config: await d.parserConfigFor(live) });
    if (opts.xml) {
      const alt = await d.parse(opts.xml, { inactive: false, what: 'the replacement XML' });
      if (alt.uuid !== live.uuid || alt.name !== live.name) throw new VirtError('INVALID_ARG', `the replacement XML must describe domain '${live.name}' (${live.uuid})`, { origin: 'qemu' });
      xml = opts.xml;
    }
    const wasRunning = record.state === 'running';
    const paths = d.paths;
    const total = live.memory.total * 1024;
    const job = await DomainJob.start(d, { uuid, name: view.name }, 'save', { dataTotal: total, memTotal: total });
    const sockPath = join(paths.socketDir(record.id, view.name), 'save.sock');
    let server: Server | undefined;
    let ok = false;
    try {
      if (wasRunning) {
        // The record first: if this process dies now, the next one finds 'saving', cancels the save and resumes the guest.
        await d.ctx.store.writeRecord({ ...record, state: 'paused', reason: 'saving' });
        await qmp.execute('stop');
      }
      await mkdir(dirname(file), { recursive: true });
      const start = encodeSaveImageStart(xml, wasRunning);
      await writeFile(file, start, { mode: 0o600 });
      const recv = await receiveStream(sockPath, file, start.length);
      server = recv.server;
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': UNLIMITED_BANDWIDTH });
      await qmp.execute('migrate', { uri: `unix:${sockPath}` });
      await followMigration(qmp, job, ctx, view.name, 'save');
      await recv.done;
      const fh = await open(file, 'r+');
      try {
        await fh.write(Buffer.from(SAVE_MAGIC, 'latin1'), 0, 16, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      ok = true;
    } catch (err) {
      await rm(file, { force: true });
      if (wasRunning) await qmp.execute('cont').catch(() => {});
      await d.ctx.store.writeRecord({ ...record, state: wasRunning ? 'running' : 'paused', reason: wasRunning ? 'save_canceled' : record.reason });
      throw err;
    } finally {
      server?.close();
      await rm(sockPath, { force: true });
      await job.end(ok ? 'completed' : 'failed');
    }
    await proc.destroy();
    await d.recordStop(record, { reason: 'saved', detail: 'saved' });
  });
}

/**
 * virDomainRestore (and the start of a domain with a managed save image):
 * reads the header and XML, starts QEMU with `-incoming fd:4` on the image
 * positioned after the header, waits for the state to load, then lets the
 * guest run (or stay paused). Returns the domain's name.
 */
export async function restoreFromFile(
  d: QemuDomains, file: string, opts: DomainSaveOptions, ctx: JobContext | undefined, managed?: { managed: DomainView },
): Promise<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new VirtError('OPEN_FAILED', `cannot open saved state file '${file}': ${(err as Error).message}`, { origin: 'qemu', cause: err });
  }
  try {
    const { header, xml } = readSaveImageStart(fd, file);
    const def = await d.parse(opts.xml ?? xml, { inactive: false, what: `the domain XML in '${file}'` });
    if (opts.xml) {
      const saved = await d.parse(xml, { inactive: false });
      if (saved.uuid !== def.uuid || saved.name !== def.name) throw new VirtError('INVALID_ARG', `the replacement XML must describe domain '${saved.name}' (${saved.uuid})`, { origin: 'qemu' });
    }
    const paused = opts.startAs === 'paused' || (opts.startAs === undefined && !header.wasRunning);
    const total = def.memory.total * 1024;
    const run = async (persistent: boolean, previous: DomainRecord | undefined) => {
      const job = await DomainJob.start(d, { uuid: def.uuid, name: def.name }, 'restore', { dataTotal: total, memTotal: total });
      let ok = false;
      try {
        await d.launch(
          {
            def, persistent, paused, runningReason: 'restored', pausedReason: 'user', incomingFd: fd, ...(previous ? { previous } : {}),
            beforeCont: async (qmp) => {
              await waitIncoming(qmp, job, ctx, def.name);
            },
          },
          { type: 'started', detail: 'restored' },
        );
        ok = true;
      } finally {
        await job.end(ok ? 'completed' : 'failed');
      }
    };
    if (managed) {
      await run(true, managed.managed.record);
      return def.name;
    }
    await d.lockDriver('restore', async () => {
      const sameName = await d.views.byName(def.name);
      if (sameName && sameName.uuid !== def.uuid) throw new VirtError('DOM_EXIST', `domain '${def.name}' already exists with uuid ${sameName.uuid}`, { origin: 'qemu' });
      if (!sameName) {
        const sameUuid = (await d.views.all()).find((v) => v.uuid === def.uuid);
        if (sameUuid) throw new VirtError('DOM_EXIST', `domain '${sameUuid.name}' already exists with uuid ${def.uuid}`, { origin: 'qemu' });
      }
      await d.lockDomain(def.uuid, 'restore', async () => {
        const cur = await d.views.byName(def.name);
        if (cur && isActive(cur)) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${def.name}' is already active`, { origin: 'qemu' });
        await run(!!cur?.config, cur?.record);
      });
    });
    return def.name;
  } finally {
    closeSync(fd);
  }
}

/** Waits until QEMU has read the incoming state. */
async function waitIncoming(qmp: QmpClient, job: DomainJob, ctx: JobContext | undefined, name: string): Promise<void> {
  let delay = 2;
  for (;;) {
    const [st, m] = await Promise.all([qmp.execute<{ status: string }>('query-status'), qmp.execute<MigrationStatus>('query-migrate')]);
    progressOf(job, m, ctx, 'restore');
    if (m.status === 'failed') throw new VirtError('OPERATION_FAILED', `domain '${name}': restoring the saved state failed: ${m['error-desc'] ?? 'incoming migration failed'}`, { origin: 'qemu' });
    if (st.status !== 'inmigrate') return;
    if (ctx?.signal?.aborted || (await job.abortRequested())) throw new VirtError('OPERATION_ABORTED', `domain '${name}': restore was cancelled`, { origin: 'qemu' });
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}
