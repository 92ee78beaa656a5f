import { join } from 'node:path';
import {
  DAEMON_SOCKET,
  DAEMON_SOCKET_RO,
  daemonRuntimeDirForRoot,
  daemonSocketFor,
  socketDirFor,
  systemDirs,
  VirtError,
  type VirtUri,
} from '@virtkit/core';
import { connectSsh, type Prompt } from '../transport/ssh.js';
import { connectTcp, connectTls, DEFAULT_TCP_PORT, DEFAULT_TLS_PORT } from '../transport/tls.js';
import type { Transport } from '../transport/transport.js';
import { connectUnix } from '../transport/unix.js';

function flag(v: string | undefined): boolean {
  return v !== undefined && v !== '0' && v.toLowerCase() !== 'no' && v.toLowerCase() !== 'false';
}

/**
 * The daemon socket on the far side of an SSH connection: `socket=`, else
 * the default one of the URI's family there (the session's is asked from
 * the remote shell, since its runtime dir is the remote user's).
 */
function remoteSocket(uri: VirtUri, readonly: boolean): string | ((exec: (cmd: string) => Promise<string>) => Promise<string>) {
  const name = readonly ? DAEMON_SOCKET_RO : DAEMON_SOCKET;
  if (uri.params.socket) return uri.params.socket;
  const path = uri.path.replace(/\/+$/, '');
  if (path === '/embed' && uri.params.root) return join(socketDirFor(daemonRuntimeDirForRoot(uri.params.root)), name);
  if (path === '/session') {
    return async (exec) => {
      const out = await exec(`printf '%s\\n%s\\n' "$XDG_RUNTIME_DIR" "$HOME"`);
      const [xdg, home] = out.split('\n');
      if (xdg) return join(xdg, 'virtkit', name);
      if (home) return join(home, '.cache', 'virtkit', 'run', name);
      throw new Error('the remote shell told neither XDG_RUNTIME_DIR nor HOME; pass socket=PATH');
    };
  }
  return join(systemDirs().runtime, name);
}

/** Connects the transport a remote URI names. */
export async function openTransport(uri: VirtUri, opts: { readonly: boolean; prompt?: Prompt }): Promise<Transport> {
  const p = uri.params;
  const transport = uri.transport ?? (uri.host ? 'tls' : 'unix');
  const noVerify = flag(p.no_verify);
  switch (transport) {
    case 'unix': {
      if (uri.host && uri.host !== 'localhost') {
        throw new VirtError('INVALID_ARG', `URI '${uri.raw}': the unix transport reaches only this host; use +ssh for '${uri.host}'`, { origin: 'remote' });
      }
      return connectUnix(p.socket || daemonSocketFor(uri, opts.readonly));
    }
    case 'ssh':
    case 'libssh':
    case 'libssh2': {
      if (!uri.host) throw new VirtError('INVALID_ARG', `URI '${uri.raw}' names no host to reach over SSH`, { origin: 'remote' });
      const verifyParam = (p.known_hosts_verify || 'normal').toLowerCase();
      if (!['normal', 'auto', 'ignore'].includes(verifyParam)) {
        throw new VirtError('INVALID_ARG', `URI '${uri.raw}': known_hosts_verify must be normal, auto or ignore`, { origin: 'remote' });
      }
      // A terminal to ask on: not when the URI says no_tty=1.
      const prompt = flag(p.no_tty) ? undefined : opts.prompt;
      return connectSsh({
        host: uri.host,
        port: uri.port ?? 22,
        ...(uri.user ? { user: uri.user } : {}),
        ...(p.keyfile ? { keyfile: p.keyfile } : {}),
        ...(p.known_hosts ? { knownHosts: p.known_hosts } : {}),
        verify: noVerify ? 'ignore' : (verifyParam as 'normal' | 'auto' | 'ignore'),
        socket: remoteSocket(uri, opts.readonly),
        ...(p.sshauth ? { authOrder: p.sshauth.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        ...(prompt ? { prompt } : {}),
      });
    }
    case 'tls':
      if (!uri.host) throw new VirtError('INVALID_ARG', `URI '${uri.raw}' names no host to reach over TLS`, { origin: 'remote' });
      return connectTls(uri.host, uri.port ?? DEFAULT_TLS_PORT, { ...(p.pkipath ? { pkipath: p.pkipath } : {}), noVerify });
    case 'tcp':
      if (!uri.host) throw new VirtError('INVALID_ARG', `URI '${uri.raw}' names no host to reach over TCP`, { origin: 'remote' });
      return connectTcp(uri.host, uri.port ?? DEFAULT_TCP_PORT);
    default:
      throw new VirtError('NO_SUPPORT', `URI '${uri.raw}': transport '${transport}' is not supported (use unix, ssh, tls or tcp)`, { origin: 'remote' });
  }
}
