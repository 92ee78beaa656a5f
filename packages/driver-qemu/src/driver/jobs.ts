import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { VirtError, type DomainJobInfo } from '@virtkit/core';
import { processAlive } from '../process/proc.js';
import type { QemuDomains } from './domains.js';

/** The job file another process reads (`domjobinfo` / `domjobabort` without a daemon). */
interface JobFile {
  pid: number;
  info: DomainJobInfo;
}

// Keyed by the driver's state folder and the domain: two URIs in one process (both ends of a
// migration, in tests and benchmarks) each have their own jobs.
const running = new Map<string, DomainJob>();
const completed = new Map<string, DomainJobInfo>();
const keyOf = (d: QemuDomains, uuid: string) => `${d.paths.runtimeDir}\0${uuid}`;

/**
 * A long job of this process on one domain (save, restore, migration):
 * what `domjobinfo` shows while it runs and after it ended, and how
 * `domjobabort` reaches it. Its state is mirrored in `NAME.job.json` every
 * 200 ms so other processes see it too; they ask for an abort by creating
 * `NAME.abort`.
 */
export class DomainJob {
  readonly abort = new AbortController();
  private info: DomainJobInfo;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  private constructor(
    private readonly d: QemuDomains,
    readonly uuid: string,
    readonly name: string,
    operation: string,
  ) {
    this.info = { type: 'unbounded', operation };
  }

  /** Starts a job; a second one on the same domain is refused. */
  static async start(d: QemuDomains, dom: { uuid: string; name: string }, operation: string, info: Partial<DomainJobInfo> = {}): Promise<DomainJob> {
    const key = keyOf(d, dom.uuid);
    const other = running.get(key);
    if (other) throw new VirtError('OPERATION_INVALID', `domain '${dom.name}' has a job running already (${other.info.operation})`, { origin: 'qemu' });
    const job = new DomainJob(d, dom.uuid, dom.name, operation);
    job.info = { ...job.info, ...info, type: 'unbounded', operation };
    running.set(key, job);
    await unlink(d.paths.abortFile(dom.name)).catch(() => {});
    await job.writeFile();
    job.timer = setInterval(() => void job.writeFile(), 200);
    job.timer.unref();
    return job;
  }

  /** The job as `domjobinfo` shows it now. */
  snapshot(): DomainJobInfo {
    return { ...this.info, timeElapsedMs: Date.now() - this.startedAt };
  }

  update(info: Partial<DomainJobInfo>): void {
    this.info = { ...this.info, ...info, type: this.info.type, operation: this.info.operation };
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Whether an abort was asked for: here, or by another process through the abort file. */
  async abortRequested(): Promise<boolean> {
    if (this.abort.signal.aborted) return true;
    return stat(this.d.paths.abortFile(this.name)).then(() => true, () => false);
  }

  /** Ends the job; its last state stays as the completed job of the domain. */
  async end(type: 'completed' | 'failed' | 'cancelled', info: Partial<DomainJobInfo> = {}): Promise<DomainJobInfo> {
    const final: DomainJobInfo = { ...this.snapshot(), ...info, type };
    if (this.ended) return final;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    const key = keyOf(this.d, this.uuid);
    if (running.get(key) === this) running.delete(key);
    delete final.expectedDowntimeMs;
    delete final.timeRemainingMs;
    completed.set(key, final);
    await Promise.all([unlink(this.d.paths.jobFile(this.name)).catch(() => {}), unlink(this.d.paths.abortFile(this.name)).catch(() => {})]);
    return final;
  }

  private async writeFile(): Promise<void> {
    if (this.ended) return;
    const f: JobFile = { pid: process.pid, info: this.snapshot() };
    await writeFile(this.d.paths.jobFile(this.name), JSON.stringify(f)).catch(() => {});
  }
}

/** The job of this process on a domain, if one runs. */
export function runningJob(d: QemuDomains, uuid: string): DomainJob | undefined {
  return running.get(keyOf(d, uuid));
}

/** virDomainGetJobStats: this process's job, another process's (from its job file), or the last completed one. */
export async function domainJobInfo(d: QemuDomains, uuid: string, opts: { completed?: boolean } = {}): Promise<DomainJobInfo> {
  const j = running.get(keyOf(d, uuid));
  if (opts.completed) return completed.get(keyOf(d, uuid)) ?? { type: 'none' };
  if (j) return j.snapshot();
  const v = await d.views.byUuid(uuid);
  try {
    const f = JSON.parse(await readFile(d.paths.jobFile(v.name), 'utf8')) as JobFile;
    if (f.info && (await processAlive(f.pid))) return f.info;
  } catch {
    // no job file
  }
  // A finished job shows only when asked for (libvirt: VIR_DOMAIN_JOB_STATS_COMPLETED).
  return { type: 'none' };
}

/** virDomainAbortJob: cancels this process's job, or asks the process running it (through the abort file). */
export async function abortDomainJob(d: QemuDomains, uuid: string): Promise<void> {
  const j = running.get(keyOf(d, uuid));
  if (j) {
    j.abort.abort(new VirtError('OPERATION_ABORTED', `domain '${j.name}': ${j.snapshot().operation} aborted (domjobabort)`, { origin: 'qemu' }));
    return;
  }
  const v = await d.views.byUuid(uuid);
  const f = await readFile(d.paths.jobFile(v.name), 'utf8').then((t) => JSON.parse(t) as JobFile, () => undefined);
  if (!f || !(await processAlive(f.pid))) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: no job is active on domain '${v.name}'`, { origin: 'qemu' });
  await writeFile(d.paths.abortFile(v.name), String(process.pid));
}
