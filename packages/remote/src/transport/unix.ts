import { connect } from 'node:net';
import { VirtError } from '@virtkit/core';
import { startHint, type Transport } from './transport.js';

/** Connects to a virtkitd's unix socket. */
export function connectUnix(path: string, timeoutMs = 15000): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new VirtError('NO_CONNECT', `connecting to virtkitd at ${path} timed out after ${timeoutMs} ms`, { origin: 'remote' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay?.(true);
      resolve({ socket: sock, label: `virtkitd at unix:${path}`, dispose: () => {} });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unixConnectError(path, err));
    });
  });
}

export function unixConnectError(path: string, err: NodeJS.ErrnoException): VirtError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new VirtError('NO_CONNECT', `no virtkitd answers at ${path} (${err.code}): ${startHint('on this host')}`, { origin: 'remote', cause: err });
    case 'EACCES':
    case 'EPERM':
      return new VirtError(
        'AUTH_FAILED',
        `permission denied on virtkitd's socket ${path}: the read-write socket is for its owner only; use a read-only connection (-r) or run as that user`,
        { origin: 'remote', cause: err },
      );
    default:
      return new VirtError('NO_CONNECT', `cannot connect to virtkitd at ${path}: ${err.message}`, { origin: 'remote', cause: err });
  }
}
