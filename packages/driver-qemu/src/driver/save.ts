import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatDomainXml, VirtError, type DomainJobInfo, type DomainSaveOptions, type JobContext } from '@virtkit/core';
import { isProcessAlive } from '../process/proc.js';
import type { QmpClient } from '../qmp/client.js';
import type { QemuDomains } from './domains.js';
import type { DomainRecord } from './record.js';
import { isActive, type DomainView } from './views.js';
import { encodeSaveImageStart, readSaveImageStart, SAVE_MAGIC } from './save-image.js';

/** A long job of this process (save, restore) that domjobinfo / domjobabort can see. */
interface RunningJob {
  operation: 'save' | 'restore';
  startedAt: number;
  processed: number;
  total: number;
  abort: AbortController;
}

interface JobFile {
  pid: number;
  operation: string;
  startedAt: number;
  processed: number;
  total: number;
}

const running = new Map<string, RunningJob>();
const completed = new Map<string, DomainJobInfo>();

// QEMU's default migration speed is 32 MiB/s; saving to a file wants no limit (libvirt: QEMU_DOMAIN_MIG_BANDWIDTH_MAX).
const UNLIMITED_BANDWIDTH = 2 ** 53 - 1;

interface MigrationStatus {
  status: string;
  ram?: { transferred?: number; total?: number; remaining?: number };
  'error-desc'?: string;
}

function jobInfoOf(j: RunningJob): DomainJobInfo {
  return {
    type: 'unbounded',
    operation: j.operation,
    timeElapsedMs: Date.now() - j.startedAt,
    dataTotal: j.total,
    dataProcessed: j.processed,
    dataRemaining: Math.max(0, j.total - j.processed),
    memTotal: j.total,
    memProcessed: j.processed,
    memRemaining: Math.max(0, j.total - j.processed),
  };
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
async function followMigration(qmp: QmpClient, job: RunningJob, ctx: JobContext | undefined, abortFile: string | undefined, name: string): Promise<void> {
  let delay = 5;
  let cancelling = false;
  for (;;) {
    const m = await qmp.execute<MigrationStatus>('query-migrate');
    if (m.ram) {
      job.total = m.ram.total ?? job.total;
      job.processed = m.ram.transferred ?? job.processed;
      ctx?.onProgress?.({ processed: job.processed, total: job.total, operation: job.operation });
    }
    if (m.status === 'completed') return;
    if (m.status === 'failed') throw new VirtError('OPERATION_FAILED', `domain '${name}': ${job.operation} failed: ${m['error-desc'] ?? 'migration failed'}`, { origin: 'qemu' });
    if (m.status === 'cancelled') throw new VirtError('OPERATION_ABORTED', `domain '${name}': ${job.operation} was cancelled`, { origin: 'qemu' });
    const abortAsked = job.abort.signal.aborted || ctx?.signal?.aborted || (abortFile ? await stat(abortFile).then(() => true, () => false) : false);
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
    if (running.has(uuid)) throw new VirtError('OPERATION_INVALID', `domain '${view.name}' has a job running already`, { origin: 'qemu' });
    let xml = formatDomainXml(live, { secure: true, config: await d.parserConfigFor(live) });
    if (opts.xml) {
      const alt = await d.parse(opts.xml, { inactive: false, what: 'the replacement XML' });
      if (alt.uuid !== live.uuid || alt.name !== live.name) throw new VirtError('INVALID_ARG', `the replacement XML must describe domain '${live.name}' (${live.uuid})`, { origin: 'qemu' });
      xml = opts.xml;
    }
    const wasRunning = record.state === 'running';
    const paths = d.paths;
    const job: RunningJob = { operation: 'save', startedAt: Date.now(), processed: 0, total: live.memory.total * 1024, abort: new AbortController() };
    running.set(uuid, job);
    const jobFile = paths.jobFile(view.name);
    const abortFile = paths.abortFile(view.name);
    await unlink(abortFile).catch(() => {});
    const writeJobFile = () => writeFile(jobFile, JSON.stringify({ pid: process.pid, operation: job.operation, startedAt: job.startedAt, processed: job.processed, total: job.total } satisfies JobFile)).catch(() => {});
    await writeJobFile();
    const progress = setInterval(() => void writeJobFile(), 200);
    progress.unref();
    const sockPath = join(paths.socketDir(record.id, view.name), 'save.sock');
    let server: Server | undefined;
    let ok = false;
    try {
      if (wasRunning) await qmp.execute('stop');
      await d.ctx.store.writeRecord({ ...record, state: 'paused', reason: 'saving' });
      await mkdir(dirname(file), { recursive: true });
      const start = encodeSaveImageStart(xml, wasRunning);
      await writeFile(file, start, { mode: 0o600 });
      const recv = await receiveStream(sockPath, file, start.length);
      server = recv.server;
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': UNLIMITED_BANDWIDTH });
      await qmp.execute('migrate', { uri: `unix:${sockPath}` });
      await followMigration(qmp, job, ctx, abortFile, view.name);
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
      clearInterval(progress);
      server?.close();
      await rm(sockPath, { force: true });
      running.delete(uuid);
      await unlink(jobFile).catch(() => {});
      await unlink(abortFile).catch(() => {});
      completed.set(uuid, { ...jobInfoOf(job), type: ok ? 'completed' : 'failed' });
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
    const job: RunningJob = { operation: 'restore', startedAt: Date.now(), processed: 0, total: def.memory.total * 1024, abort: new AbortController() };
    const run = async (persistent: boolean, previous: DomainRecord | undefined) => {
      running.set(def.uuid, job);
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
        completed.set(def.uuid, { ...jobInfoOf(job), type: 'completed' });
      } catch (err) {
        completed.set(def.uuid, { ...jobInfoOf(job), type: 'failed' });
        throw err;
      } finally {
        running.delete(def.uuid);
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
async function waitIncoming(qmp: QmpClient, job: RunningJob, ctx: JobContext | undefined, name: string): Promise<void> {
  let delay = 2;
  for (;;) {
    const [st, m] = await Promise.all([qmp.execute<{ status: string }>('query-status'), qmp.execute<MigrationStatus>('query-migrate')]);
    if (m.ram) {
      job.processed = m.ram.transferred ?? job.processed;
      ctx?.onProgress?.({ processed: job.processed, total: job.total, operation: 'restore' });
    }
    if (m.status === 'failed') throw new VirtError('OPERATION_FAILED', `domain '${name}': restoring the saved state failed: ${m['error-desc'] ?? 'incoming migration failed'}`, { origin: 'qemu' });
    if (st.status !== 'inmigrate') return;
    if (job.abort.signal.aborted || ctx?.signal?.aborted) throw new VirtError('OPERATION_ABORTED', `domain '${name}': restore was cancelled`, { origin: 'qemu' });
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/** virDomainGetJobInfo: this process's job, another process's (from its job file), or the last completed one. */
export async function domainJobInfo(d: QemuDomains, uuid: string): Promise<DomainJobInfo> {
  const j = running.get(uuid);
  if (j) return jobInfoOf(j);
  const v = await d.views.byUuid(uuid);
  try {
    const f = JSON.parse(await readFile(d.paths.jobFile(v.name), 'utf8')) as JobFile;
    if (await isProcessAlive(f.pid)) {
      return jobInfoOf({ operation: f.operation as RunningJob['operation'], startedAt: f.startedAt, processed: f.processed, total: f.total, abort: new AbortController() });
    }
  } catch {
    // no job file
  }
  return completed.get(uuid) ?? { type: 'none' };
}

/** virDomainAbortJob: cancels this process's job, or asks the process running it (through the abort file). */
export async function abortDomainJob(d: QemuDomains, uuid: string): Promise<void> {
  const j = running.get(uuid);
  if (j) {
    j.abort.abort();
    return;
  }
  const v = await d.views.byUuid(uuid);
  const jobFile = d.paths.jobFile(v.name);
  const f = await readFile(jobFile, 'utf8').then((t) => JSON.parse(t) as JobFile, () => undefined);
  if (!f || !(await isProcessAlive(f.pid))) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: no job is active on domain '${v.name}'`, { origin: 'qemu' });
  await writeFile(d.paths.abortFile(v.name), String(process.pid));
}
