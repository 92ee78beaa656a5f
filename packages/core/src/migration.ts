/**
 * Live migration, libvirt's protocol v3 (libvirt.c virDomainMigrateVersion3
 * and qemu_migration.c's peer-to-peer variant) over any two domain
 * drivers, local or remote:
 *
 *   begin (source) → prepare (destination: the incoming guest waits) →
 *   perform (source: disks and memory move) → finish (destination: the
 *   guest runs there) → confirm (source: the old guest ends)
 *
 * A failure at any step rolls both ends back: finish with `cancelled`
 * removes what prepare made on the destination, confirm with `cancelled`
 * lets the guest run on at the source. The same sequence runs in the
 * client (virDomainMigrate with two connections) or in the source host's
 * driver (peer-to-peer, virDomainMigrateToURI).
 */
import type { Readable } from 'node:stream';
import type {
  DomainDriver, DomainJobInfo, DomainMigrateOptions, DomainSummary, JobContext, MigrationFlags, MigrationPerformed, MigrationPrepared,
} from './driver.js';
import { VirtError } from './errors.js';

/** The flags of a migration without its job context (what crosses the wire). */
export function migrationFlagsOf(opts: DomainMigrateOptions): MigrationFlags {
  const { signal: _s, onProgress: _p, ...flags } = opts;
  void _s;
  void _p;
  return flags;
}

function bad(msg: string): VirtError {
  return new VirtError('INVALID_ARG', msg, { origin: 'migration' });
}

/** Refuses combinations libvirt refuses (virDomainMigrate3's and virsh's checks). */
export function checkMigrationFlags(f: MigrationFlags, o: { peer2peer: boolean }): void {
  if (f.offline) {
    if (!f.persistent) throw bad('offline migration requires --persistent (the definition is all that moves)');
    if (f.live) throw bad('--live and --offline are mutually exclusive');
    if (f.copyStorage) throw bad('offline migration cannot handle non-shared storage (--copy-storage-*)');
    if (f.postcopy || f.postcopyAfterPrecopy) throw bad('post-copy is not possible in an offline migration');
    if (f.tunnelled) throw bad('offline migration cannot be tunnelled');
  }
  if (f.tunnelled && !o.peer2peer) throw bad('cannot perform tunnelled migration without using peer2peer flag (--p2p)');
  if (f.tunnelled && f.copyStorage) throw new VirtError('ARGUMENT_UNSUPPORTED', 'copying storage in a tunnelled migration is not supported: drop --tunnelled or copy the disks beforehand', { origin: 'migration' });
  if (f.postcopyAfterPrecopy && !f.postcopy) throw bad('--postcopy-after-precopy requires --postcopy');
  if (f.timeoutAction === 'postcopy' && !f.postcopy) throw bad('--timeout-postcopy requires --postcopy');
  if (f.timeoutAction && f.timeoutMs === undefined) throw bad('--timeout-suspend and --timeout-postcopy require --timeout');
  if (f.timeoutMs !== undefined) {
    if (!Number.isFinite(f.timeoutMs) || f.timeoutMs <= 0) throw bad('migrate timeout must be a positive number of seconds');
    if (!f.live) throw bad('migrate: Unexpected timeout for non-live migration (--timeout needs --live)');
  }
  if (f.bandwidth !== undefined && (!Number.isFinite(f.bandwidth) || f.bandwidth < 0)) throw bad('migration bandwidth must be a non-negative number of MiB/s');
  if (f.migrateUri !== undefined) parseMigrateUri(f.migrateUri);
  if (f.copyStorage !== undefined && f.copyStorage !== 'all' && f.copyStorage !== 'inc') throw bad(`copyStorage must be 'all' or 'inc', not '${String(f.copyStorage)}'`);
}

/** `tcp://host[:port]`, `tcp:host[:port]` or `host[:port]` (libvirt's migrate URIs). */
export function parseMigrateUri(text: string): { host?: string; port?: number } {
  const m = /^(?:tcp:(?:\/\/)?)?(\[[^\]]+\]|[^:/[\]]*)(?::(\d+))?\/?$/.exec(text);
  if (!m || (text.includes('://') && !text.startsWith('tcp://'))) {
    throw bad(`migration URI '${text}' is not supported: use tcp://HOST[:PORT] (or tcp:HOST:PORT)`);
  }
  const host = m[1] ? m[1].replace(/^\[(.*)\]$/, '$1') : undefined;
  const port = m[2] ? Number(m[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw bad(`migration URI '${text}': port ${port} is out of range`);
  return { ...(host ? { host } : {}), ...(port !== undefined ? { port } : {}) };
}

/** QEMU's URI for a TCP destination. */
export function qemuTcpUri(host: string, port: number): string {
  return `tcp:${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The phases a driver needs at each end; missing ones are NO_SUPPORT naming the end. */
function need<K extends keyof DomainDriver>(d: DomainDriver, k: K, end: string): NonNullable<DomainDriver[K]> {
  const f = d[k];
  if (typeof f !== 'function') throw new VirtError('NO_SUPPORT', `migration: the ${end} driver does not implement ${String(k)}`, { origin: 'migration' });
  return (f as (...a: unknown[]) => unknown).bind(d) as NonNullable<DomainDriver[K]>;
}

export interface MigrationEnds {
  source: DomainDriver;
  destination: DomainDriver;
  /** How the destination was reached (messages; its host is where the stream goes unless migrateUri says). */
  destinationUri: string;
  /** Host name or address of the destination as seen from the source host, when the URI names one. */
  destinationHost?: string;
  /** Fires when the link to the destination is lost: the migration is cancelled at once. */
  destinationLost?: AbortSignal;
  /** Whether this is peer-to-peer (the source's host runs this). */
  peer2peer: boolean;
}

function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const list = signals.filter((s): s is AbortSignal => !!s);
  if (list.length <= 1) return list[0];
  return AbortSignal.any(list);
}

/** Runs a rollback step; its failure must not hide the error that caused the rollback. */
async function quietly(step: Promise<unknown>): Promise<void> {
  try {
    await step;
  } catch {
    // The other end cleans up by itself when it lost us (see docs/migration.md).
  }
}

/**
 * Moves domain `uuid` from `ends.source` to `ends.destination`. Resolves
 * with the domain as the destination sees it (null for an offline
 * migration of a domain that then only exists as a definition). Rejects
 * with the first error; by then the guest runs on at the source and the
 * destination holds nothing of it.
 */
export async function runMigration(ends: MigrationEnds, uuid: string, opts: DomainMigrateOptions): Promise<DomainSummary | null> {
  const flags = migrationFlagsOf(opts);
  checkMigrationFlags(flags, { peer2peer: ends.peer2peer });
  const src = ends.source;
  const dst = ends.destination;
  const begin = need(src, 'migrateBegin', 'source');
  const perform = need(src, 'migratePerform', 'source');
  const confirm = need(src, 'migrateConfirm', 'source');
  const prepare = need(dst, 'migratePrepare', 'destination');
  const finish = need(dst, 'migrateFinish', 'destination');
  const incoming = flags.tunnelled ? need(dst, 'migrateIncoming', 'destination') : undefined;

  const lostError = () =>
    new VirtError('OPERATION_FAILED', `migration: lost the connection to the destination ${ends.destinationUri}`, {
      origin: 'migration',
      ...(ends.destinationLost?.reason ? { cause: ends.destinationLost.reason } : {}),
    });
  const checkLink = () => {
    if (ends.destinationLost?.aborted) throw lostError();
  };

  const begun = await begin(uuid, flags);
  const cookie = begun.cookie;
  let prepared: MigrationPrepared;
  try {
    checkLink();
    prepared = await prepare(begun.xml, { flags, cookie });
  } catch (err) {
    await quietly(confirm(uuid, { flags, cancelled: true }));
    throw err;
  }

  let performed: MigrationPerformed | undefined;
  if (!flags.offline) {
    try {
      checkLink();
      const target = flags.migrateUri ? parseMigrateUri(flags.migrateUri) : {};
      const host = target.host ?? ends.destinationHost ?? prepared.hostname;
      const job: JobContext = { ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
      const signal = anySignal([opts.signal, ends.destinationLost]);
      if (signal) job.signal = signal;
      const tunnel = incoming
        ? (data: Readable) => incoming(uuid, data, {}, signal ? { signal } : {})
        : undefined;
      if (!tunnel && prepared.port === undefined) throw new VirtError('INTERNAL_ERROR', 'migration: the destination gave no port to migrate to', { origin: 'migration' });
      performed = await perform(
        uuid,
        {
          flags,
          cookie,
          ...(tunnel ? { tunnel } : { uri: qemuTcpUri(host, prepared.port!) }),
          ...(prepared.nbdPort !== undefined ? { nbd: { host, port: prepared.nbdPort } } : {}),
        },
        job,
      );
      checkLink();
    } catch (err) {
      await quietly(finish(uuid, { flags, cookie, cancelled: true }));
      await quietly(confirm(uuid, { flags, cancelled: true }));
      throw ends.destinationLost?.aborted && !(err instanceof VirtError && err.code === 'OPERATION_ABORTED') ? lostError() : err;
    }
  }

  let result: DomainSummary | null;
  try {
    result = await finish(uuid, { flags, cookie, cancelled: false, ...(performed ? { stats: performed.stats } : {}) });
  } catch (err) {
    // The destination failed to take the guest over: it runs on here.
    if (!performed?.postcopy) await quietly(confirm(uuid, { flags, cancelled: true }));
    throw err;
  }
  await confirm(uuid, { flags, cancelled: false });
  return result;
}

/** Statistics as a completed job (what `domjobinfo --completed` shows afterwards). */
export function completedJob(stats: DomainJobInfo): DomainJobInfo {
  const { timeRemainingMs: _r, expectedDowntimeMs: _e, ...rest } = stats;
  void _r;
  void _e;
  return { ...rest, type: 'completed' };
}
