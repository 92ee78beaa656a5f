import { Connection, PluginLoader, runMigration, VirtError, type JobContext, type MigrationFlags } from '@virtkit/core';
import type { QemuDomains } from '../domains.js';

/**
 * virDomainMigrateToURI3 with VIR_MIGRATE_PEER2PEER: this host (often a
 * virtkitd serving a remote client) opens the destination URI itself — as
 * this host sees it: `qemu+ssh://root@dest/system` — and runs every phase,
 * the source's locally and the destination's over that connection, under
 * the domain's lock for the whole migration. Tunnelled migrations need
 * this: QEMU's stream goes through the same connection.
 */
export async function migratePeerToPeer(d: QemuDomains, uuid: string, destUri: string, flags: MigrationFlags, job: JobContext = {}): Promise<void> {
  // The plugins that opened this driver find the remote driver for the destination too.
  const plugins = d.ctx.plugins;
  const loader = plugins instanceof PluginLoader ? plugins : undefined;
  const dest = await Connection.open(destUri, loader ? { loader } : {});
  const lost = new AbortController();
  const unlisten = dest.onLost((reason) => lost.abort(reason));
  try {
    if (!dest.supports('domain.migrate')) {
      throw new VirtError('NO_SUPPORT', `migration: the destination ${destUri} (${dest.driver.name} driver) cannot receive migrations`, { origin: 'qemu' });
    }
    await d.lockDomain(uuid, 'migrate', () =>
      runMigration(
        {
          source: d,
          destination: dest.domainsDriver,
          destinationUri: destUri,
          ...(dest.uri.host ? { destinationHost: dest.uri.host } : {}),
          destinationLost: lost.signal,
          peer2peer: true,
        },
        uuid,
        { ...flags, peer2peer: true, ...(job.signal ? { signal: job.signal } : {}), ...(job.onProgress ? { onProgress: job.onProgress } : {}) },
      ),
    );
  } finally {
    unlisten();
    await dest.close().catch(() => {});
  }
}
