import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { VirtError } from '@virtkit/core';
import { startHint, type Transport } from './transport.js';

/** libvirt's ports: 16514 for TLS, 16509 for plain TCP. */
export const DEFAULT_TLS_PORT = 16514;
export const DEFAULT_TCP_PORT = 16509;

export interface ClientPki {
  ca: string;
  cert: string;
  key: string;
}

/**
 * The client's CA, certificate and key files: `pkipath=DIR` (DIR/cacert.pem,
 * DIR/clientcert.pem, DIR/clientkey.pem), else ~/.pki/virtkit/ for a user
 * and /etc/pki for root, as libvirt lays them out.
 */
export function clientPkiFiles(pkipath: string | undefined, env: NodeJS.ProcessEnv = process.env): ClientPki {
  if (pkipath) return { ca: join(pkipath, 'cacert.pem'), cert: join(pkipath, 'clientcert.pem'), key: join(pkipath, 'clientkey.pem') };
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) {
    const dir = join(env.HOME || homedir(), '.pki', 'virtkit');
    return { ca: join(dir, 'cacert.pem'), cert: join(dir, 'clientcert.pem'), key: join(dir, 'clientkey.pem') };
  }
  return { ca: '/etc/pki/CA/cacert.pem', cert: '/etc/pki/virtkit/clientcert.pem', key: '/etc/pki/virtkit/private/clientkey.pem' };
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new VirtError('AUTH_FAILED', `cannot read the TLS ${what} ${path}: ${(err as Error).message} (set pkipath=DIR in the URI)`, { origin: 'remote', cause: err });
  }
}

function networkError(kind: string, host: string, port: number, err: NodeJS.ErrnoException): VirtError {
  if (err.code === 'ECONNREFUSED') {
    return new VirtError('NO_CONNECT', `no virtkitd answers on ${host}:${port} (${kind}): ${startHint(`on ${host} with --listen-${kind} ${host}:${port}`)}`, {
      origin: 'remote',
      cause: err,
    });
  }
  return new VirtError('NO_CONNECT', `cannot connect to virtkitd on ${host}:${port} (${kind}): ${err.message}`, { origin: 'remote', cause: err });
}

/** TCP + TLS with a client certificate; the server's certificate is checked against the CA and the host name unless noVerify. */
export function connectTls(host: string, port: number, opts: { pkipath?: string; noVerify?: boolean; timeoutMs?: number }): Promise<Transport> {
  const files = clientPkiFiles(opts.pkipath);
  const ca = readPem('CA certificate', files.ca);
  const cert = readPem('client certificate', files.cert);
  const key = readPem('client key', files.key);
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host, port, ca, cert, key, servername: /^[0-9.:]+$/.test(host) ? undefined : host, rejectUnauthorized: !opts.noVerify });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new VirtError('NO_CONNECT', `TLS connection to ${host}:${port} timed out`, { origin: 'remote' }));
    }, opts.timeoutMs ?? 15000);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve({ socket: sock, label: `virtkitd on ${host}:${port} (tls)`, dispose: () => {} });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH') {
        reject(networkError('tls', host, port, err));
        return;
      }
      reject(
        new VirtError('AUTH_FAILED', `TLS handshake with ${host}:${port} failed: ${err.message}${err.code ? ` (${err.code})` : ''}`, { origin: 'remote', cause: err }),
      );
    });
  });
}

/** Plain TCP: no encryption, no authentication (the daemon must enable it explicitly). */
export function connectTcp(host: string, port: number, timeoutMs = 15000): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new VirtError('NO_CONNECT', `TCP connection to ${host}:${port} timed out`, { origin: 'remote' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve({ socket: sock, label: `virtkitd on ${host}:${port} (tcp)`, dispose: () => {} });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(networkError('tcp', host, port, err));
    });
  });
}
