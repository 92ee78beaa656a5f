import type { Connection, MigrationPrepareParams } from '@virtkit/core';

/**
 * Incoming migrations a client prepared on this daemon and has not
 * finished yet (libvirt's close callbacks for migrations). When the client
 * goes away first — the source host died, the network between the hosts
 * broke and keepalive gave up — the daemon finishes them as cancelled
 * itself, so nothing of the guest stays on this host.
 */
export class MigrationLeases {
  private readonly held = new Map<string, MigrationPrepareParams>();

  /** Called after each successful call of the session. */
  noteSuccess(proc: string, args: readonly unknown[]): void {
    if (proc === 'domains.migratePrepare') {
      const params = args[1] as MigrationPrepareParams | undefined;
      const uuid = params?.cookie?.uuid;
      if (typeof uuid === 'string') this.held.set(uuid.toLowerCase(), params!);
    }
  }

  /** Called after every finished call (a finish that failed still ended the lease: it cleaned up itself). */
  noteDone(proc: string, args: readonly unknown[]): void {
    if (proc === 'domains.migrateFinish' && typeof args[0] === 'string') this.held.delete(args[0].toLowerCase());
  }

  get size(): number {
    return this.held.size;
  }

  /** Cancels every migration still held, through the session's driver connection. */
  async cancelAll(conn: Connection, log: (msg: string, fields: Record<string, unknown>) => void): Promise<void> {
    const all = [...this.held];
    this.held.clear();
    for (const [uuid, params] of all) {
      const domains = conn.driver.domains;
      if (!domains?.migrateFinish) continue;
      try {
        await conn.run('domains.migrateFinish', { modify: true, lock: uuid }, () => domains.migrateFinish!(uuid, { ...params, cancelled: true }));
        log('incoming migration cancelled: its client left before finishing it', { domain: params.cookie.name, uuid });
      } catch (err) {
        log('could not cancel an incoming migration whose client left', { domain: params.cookie.name, uuid, error: (err as Error).message });
      }
    }
  }
}
