import { VirtError, type DomainMigrateOptions } from '@virtkit/core';
import { domainOption, type CommandContext, type CommandDef } from '../command.js';
import { readXmlFile } from './domain.js';

/** virsh's print_job_progress: `\rMigration: [ 45 %]` on stderr, `[100 %]` and a newline at the end. */
class JobProgressLine {
  private last = -1;
  private shown = false;
  constructor(private readonly label: string) {}
  update(processed: number, total: number): void {
    const pct = total > 0 ? Math.min(99, Math.floor((processed * 100) / total)) : 0;
    if (pct === this.last) return;
    this.last = pct;
    this.shown = true;
    process.stderr.write(`\r${this.label}: [${String(pct).padStart(3)} %]`);
  }
  finish(ok: boolean): void {
    if (ok) process.stderr.write(`\r${this.label}: [100 %]\n`);
    else if (this.shown) process.stderr.write('\n');
  }
}

async function migrateOptions(ctx: CommandContext): Promise<DomainMigrateOptions> {
  const o = ctx.opts;
  if (o.flag('direct')) {
    throw new VirtError('ARGUMENT_UNSUPPORTED', 'direct migration is not supported by the QEMU driver (use the default, or --p2p)');
  }
  if (o.str('dname')) throw new VirtError('ARGUMENT_UNSUPPORTED', 'renaming a domain while migrating it (--dname) is not supported');
  const timeout = o.int('timeout');
  const bandwidth = o.int('bandwidth');
  const xml = o.str('xml');
  const persistentXml = o.str('persistent-xml');
  const migrateUri = o.str('migrateuri');
  const listen = o.str('listen-address');
  if (timeout !== undefined && timeout <= 0) throw new VirtError('INVALID_ARG', 'migrate: Invalid timeout');
  return {
    live: o.flag('live'),
    offline: o.flag('offline'),
    peer2peer: o.flag('p2p'),
    tunnelled: o.flag('tunnelled'),
    persistent: o.flag('persistent'),
    undefineSource: o.flag('undefinesource'),
    paused: o.flag('suspend'),
    unsafe: o.flag('unsafe'),
    postcopy: o.flag('postcopy'),
    postcopyAfterPrecopy: o.flag('postcopy-after-precopy'),
    autoConverge: o.flag('auto-converge'),
    compressed: o.flag('compressed'),
    ...(o.flag('copy-storage-all') ? { copyStorage: 'all' as const } : o.flag('copy-storage-inc') ? { copyStorage: 'inc' as const } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000, timeoutAction: o.flag('timeout-postcopy') ? ('postcopy' as const) : ('suspend' as const) } : {}),
    ...(timeout === undefined && (o.flag('timeout-suspend') || o.flag('timeout-postcopy')) ? { timeoutAction: o.flag('timeout-postcopy') ? ('postcopy' as const) : ('suspend' as const) } : {}),
    ...(bandwidth !== undefined ? { bandwidth } : {}),
    ...(migrateUri ? { migrateUri } : {}),
    ...(listen ? { listenAddress: listen } : {}),
    ...(xml ? { xml: await readXmlFile(xml) } : {}),
    ...(persistentXml ? { persistentXml: await readXmlFile(persistentXml) } : {}),
  };
}

const migrate: CommandDef = {
  name: 'migrate',
  group: 'Domain Management',
  summary: 'migrate domain to another host',
  description:
    'Migrate domain to another host. Add --live for live migration. Without --p2p this command drives the migration with a ' +
    'connection of its own to the destination (DEST_URI as this host sees it); with --p2p the source host connects to ' +
    'DEST_URI itself. Ctrl-C aborts the migration; the guest then runs on at the source.',
  options: [
    domainOption(),
    { name: 'desturi', type: 'string', required: true, positional: true, help: 'connection URI of the destination host as seen from the client (normal migration) or source (p2p migration)' },
    { name: 'migrateuri', type: 'string', positional: true, help: 'migration URI, usually can be omitted (tcp://HOST[:PORT])' },
    { name: 'live', type: 'bool', help: 'live migration' },
    { name: 'offline', type: 'bool', help: 'offline migration' },
    { name: 'p2p', type: 'bool', help: 'peer-2-peer migration' },
    { name: 'direct', type: 'bool', help: 'direct migration' },
    { name: 'tunnelled', type: 'bool', help: 'tunnelled migration' },
    { name: 'persistent', type: 'bool', help: 'persist VM on destination' },
    { name: 'undefinesource', type: 'bool', help: 'undefine VM on source' },
    { name: 'suspend', type: 'bool', help: 'do not restart the domain on the destination host' },
    { name: 'copy-storage-all', type: 'bool', help: 'migration with non-shared storage with full disk copy' },
    { name: 'copy-storage-inc', type: 'bool', help: 'migration with non-shared storage with incremental copy (same base image shared between source and destination)' },
    { name: 'unsafe', type: 'bool', help: 'force migration even if it may be unsafe' },
    { name: 'verbose', type: 'bool', help: 'display the progress of migration' },
    { name: 'compressed', type: 'bool', help: 'compress repeated pages during live migration' },
    { name: 'auto-converge', type: 'bool', help: 'force convergence during live migration' },
    { name: 'postcopy', type: 'bool', help: 'enable post-copy migration; switch to it using migrate-postcopy command' },
    { name: 'postcopy-after-precopy', type: 'bool', help: 'automatically switch to post-copy migration after one pass of pre-copy' },
    { name: 'listen-address', type: 'string', help: 'listen address that destination should bind to for incoming migration' },
    { name: 'dname', type: 'string', help: 'rename to new name during migration (if supported)' },
    { name: 'timeout', type: 'int', help: 'run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)' },
    { name: 'timeout-suspend', type: 'bool', help: 'suspend the guest after timeout' },
    { name: 'timeout-postcopy', type: 'bool', help: 'switch to post-copy after timeout' },
    { name: 'xml', type: 'string', help: 'filename containing updated XML for the target' },
    { name: 'persistent-xml', type: 'string', help: 'filename containing updated persistent XML for the target' },
    { name: 'bandwidth', type: 'int', help: 'migration bandwidth limit in MiB/s' },
  ],
  exclusive: [['live', 'offline'], ['copy-storage-all', 'copy-storage-inc'], ['timeout-suspend', 'timeout-postcopy'], ['p2p', 'direct']],
  async run(ctx) {
    const d = await ctx.domain();
    const opts = await migrateOptions(ctx);
    const verbose = ctx.opts.flag('verbose');
    const job = ctx.job('Migration');
    const line = verbose ? new JobProgressLine('Migration') : undefined;
    let ok = false;
    try {
      await d.migrate(ctx.opts.req('desturi'), {
        ...opts,
        ...(job.signal ? { signal: job.signal } : {}),
        onProgress: (p) => line?.update(p.processed, p.total),
      });
      ok = true;
    } finally {
      job.done();
      line?.finish(ok);
    }
  },
};

const migratePostcopy: CommandDef = {
  name: 'migrate-postcopy',
  group: 'Domain Management',
  summary: 'Switch running migration from pre-copy to post-copy',
  description: 'Switch running migration from pre-copy to post-copy. The migration must have been started with --postcopy option.',
  options: [domainOption()],
  async run(ctx) {
    await (await ctx.domain()).migrateStartPostCopy();
  },
};

export const migrateCommands: CommandDef[] = [migrate, migratePostcopy];
