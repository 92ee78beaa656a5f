import { resolve } from 'node:path';
import { Connection, formatUri, isRemoteUri, parseUri, VirtError, type PluginLoader } from '@virtkit/core';

/**
 * The local URI the daemon opens for what a client asked. With `--root
 * DIR`, the families' state (`/system`, `/session`, lxc/xen's `/`) lives
 * under DIR as `embed?root=DIR` keeps it; another embed root is refused.
 * A URI naming a host or a transport is refused: the daemon serves its
 * own host and relays nowhere.
 */
export function resolveServedUri(requested: string, root?: string): string {
  const uri = parseUri(requested);
  if (isRemoteUri(uri)) {
    throw new VirtError('OPERATION_DENIED', `virtkitd serves this host's drivers only; '${requested}' names a transport or another host`, { origin: 'virtkitd' });
  }
  if (!root) return requested;
  const path = uri.path.replace(/\/+$/, '') || '/';
  const r = resolve(root);
  if (path === '/embed') {
    if (uri.params.root && resolve(uri.params.root) === r) return requested;
    throw new VirtError('OPERATION_DENIED', `this virtkitd serves the state under ${r} only, not '${requested}'`, { origin: 'virtkitd' });
  }
  if (path === '/system' || path === '/session' || (path === '/' && (uri.driver === 'lxc' || uri.driver === 'xen'))) {
    return formatUri({ driver: uri.driver, path: '/embed', params: { ...uri.params, root: r } });
  }
  return requested;
}

interface Entry {
  conn?: Connection;
  opening?: Promise<Connection>;
  refs: number;
  idle?: NodeJS.Timeout;
}

/**
 * One driver connection per served URI, shared by every client of it, so
 * each guest's monitor has one owner. A connection nobody uses is closed
 * after `idleMs` (the next client opens it again: drivers find their
 * guests in their own state).
 */
export class ConnectionPool {
  private readonly entries = new Map<string, Entry>();
  /** URIs whose first open (and its hook) happened in this process. */
  private readonly seen = new Set<string>();

  /**
   * @param onFirstOpen runs once per URI and process, after the first open
   *   and before that client gets the connection (virtkitd's autostart).
   */
  constructor(
    private readonly loader: PluginLoader,
    private readonly idleMs = 30_000,
    private readonly onFirstOpen?: (uri: string, conn: Connection) => Promise<void>,
  ) {}

  private async openFirst(uri: string): Promise<Connection> {
    const conn = await Connection.open(uri, { loader: this.loader });
    if (!this.seen.has(uri)) {
      this.seen.add(uri);
      await this.onFirstOpen?.(uri, conn).catch(() => {});
    }
    return conn;
  }

  async acquire(uri: string): Promise<{ conn: Connection; release: () => void }> {
    let e = this.entries.get(uri);
    if (!e) {
      e = { refs: 0 };
      this.entries.set(uri, e);
    }
    e.refs++;
    if (e.idle) {
      clearTimeout(e.idle);
      e.idle = undefined;
    }
    const entry = e;
    try {
      if (!entry.conn) {
        entry.opening ??= this.openFirst(uri);
        try {
          entry.conn = await entry.opening;
        } finally {
          entry.opening = undefined;
        }
      }
    } catch (err) {
      entry.refs--;
      if (entry.refs === 0 && !entry.conn) this.entries.delete(uri);
      throw err;
    }
    let released = false;
    return {
      conn: entry.conn,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.refs > 0) return;
        entry.idle = setTimeout(() => {
          if (entry.refs > 0) return;
          this.entries.delete(uri);
          void entry.conn?.close().catch(() => {});
        }, this.idleMs);
        entry.idle.unref();
      },
    };
  }

  /** URIs with an open connection. */
  get open(): string[] {
    return [...this.entries.keys()];
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      if (e.idle) clearTimeout(e.idle);
      await e.conn?.close().catch(() => {});
    }
  }
}
