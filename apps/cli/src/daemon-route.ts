import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { configuredDefaultUri, daemonSocketFor, formatUri, isRemoteUri, parseUri } from '@virtkit/core';

/** Whether something accepts connections on a unix socket (a stale file from a dead daemon does not). */
function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * DESIGN.md, "Local use needs no daemon": when a virtkitd serves a local
 * stateful URI (its socket answers), the CLI goes through it so each
 * guest's monitor has one owner. Returns the `+unix` URI to open instead,
 * or undefined to open the URI locally. Costs one stat when no socket file
 * exists. VIRTKIT_NO_DAEMON=1 turns it off.
 */
export async function daemonRouteFor(uriText: string | undefined, readonly: boolean, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.VIRTKIT_NO_DAEMON === '1') return undefined;
  let text = uriText;
  if (text === undefined) {
    try {
      text = configuredDefaultUri(env);
    } catch {
      text = undefined;
    }
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    text ??= root ? 'qemu:///system' : 'qemu:///session';
  }
  let uri;
  try {
    uri = parseUri(text);
  } catch {
    return undefined;
  }
  if (isRemoteUri(uri)) return undefined;
  const path = uri.path.replace(/\/+$/, '') || '/';
  // The test driver's hosts live in the calling process; only stateful families have a daemon to share.
  const stateful = path === '/system' || path === '/session' || (path === '/embed' && !!uri.params.root) || (path === '/' && (uri.driver === 'lxc' || uri.driver === 'xen'));
  if (!stateful) return undefined;
  const sock = daemonSocketFor(uri, readonly);
  if (!existsSync(sock)) return undefined;
  if (!(await socketAnswers(sock))) return undefined;
  return formatUri({ driver: uri.driver, transport: 'unix', path: uri.path, params: { ...uri.params, socket: sock } });
}
