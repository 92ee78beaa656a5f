import { join, resolve } from 'node:path';
import { sessionDirs, socketDirFor, systemDirs } from './paths.js';
import type { VirtUri } from './uri.js';

/** File names of virtkitd's sockets in its runtime dir (DESIGN.md, "Remote"). */
export const DAEMON_SOCKET = 'virtkit-sock';
export const DAEMON_SOCKET_RO = 'virtkit-sock-ro';

/** The runtime dir of a `virtkitd --root DIR` (embed-style state). */
export function daemonRuntimeDirForRoot(root: string): string {
  return join(resolve(root), 'run');
}

/**
 * Where the virtkitd serving a URI's family listens on this host, as
 * libvirt's remote driver picks it: `/session` (and the test driver for an
 * unprivileged user) go to the user's daemon, `/embed?root=DIR` to a
 * `virtkitd --root DIR`, anything else to the system daemon.
 */
export function daemonSocketFor(uri: Pick<VirtUri, 'driver' | 'path' | 'params'>, readonly = false): string {
  const name = readonly ? DAEMON_SOCKET_RO : DAEMON_SOCKET;
  const path = uri.path.replace(/\/+$/, '');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (path === '/embed' && uri.params.root) return join(socketDirFor(daemonRuntimeDirForRoot(uri.params.root)), name);
  if (path === '/session' || (!root && uri.driver === 'test')) return join(socketDirFor(sessionDirs().runtime), name);
  return join(systemDirs().runtime, name);
}
