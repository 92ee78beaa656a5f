import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { VirtError } from './errors.js';
import type { VirtUri } from './uri.js';

/** Where one URI family keeps its things (see DESIGN.md, "State directories"). */
export interface StateDirs {
  /** `system`, `session` or `embed`. */
  readonly scope: 'system' | 'session' | 'embed';
  /** Persistent definitions (XML). */
  readonly config: string;
  /** Persistent data (images, saved state, leases). */
  readonly data: string;
  /** Runtime state: pids, sockets, live XML. */
  readonly runtime: string;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The state directories of a local URI: `/system`, `/session` or
 * `/embed?root=DIR`. Other paths are refused with INVALID_ARG.
 */
export function stateDirsFor(uri: VirtUri): StateDirs {
  const path = uri.path.replace(/\/+$/, '') || '/';
  if (path === '/embed') {
    const root = uri.params.root;
    if (!root) throw new VirtError('INVALID_ARG', `URI '${uri.raw}' needs a root parameter (embed?root=DIR)`);
    if (!isAbsolute(root)) throw new VirtError('INVALID_ARG', `URI '${uri.raw}': embed root '${root}' must be an absolute path`);
    const r = resolve(root);
    return { scope: 'embed', config: join(r, 'etc'), data: join(r, 'lib'), runtime: join(r, 'run') };
  }
  if (path === '/system' || (path === '/' && (uri.driver === 'lxc' || uri.driver === 'xen'))) {
    if (!isRoot()) throw new VirtError('OPERATION_DENIED', `URI '${uri.raw}' needs root privileges; use ${uri.driver}:///session or ${uri.driver}:///embed?root=DIR`);
    return systemDirs();
  }
  if (path === '/session') return sessionDirs();
  throw new VirtError('INVALID_ARG', `unexpected ${uri.driver} URI path '${uri.path}', try ${uri.driver}:///system, ${uri.driver}:///session or ${uri.driver}:///embed?root=DIR`);
}

export function systemDirs(): StateDirs {
  return { scope: 'system', config: '/etc/virtkit', data: '/var/lib/virtkit', runtime: '/run/virtkit' };
}

export function sessionDirs(env: NodeJS.ProcessEnv = process.env): StateDirs {
  const home = env.HOME || homedir();
  const config = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'virtkit');
  const data = join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'virtkit');
  const runtime = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'virtkit') : join(home, '.cache', 'virtkit', 'run');
  return { scope: 'session', config, data, runtime };
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

/**
 * A folder for unix sockets under `runtimeDir`, or, when paths there would
 * be too long for sun_path, a short per-root folder under /tmp named by a
 * hash of the runtime dir. `longestName` is the longest file name to fit.
 */
export function socketDirFor(runtimeDir: string, longestName = 32): string {
  if (Buffer.byteLength(join(runtimeDir, 'x'.repeat(longestName))) <= MAX_SOCKET_PATH) return runtimeDir;
  const hash = createHash('sha256').update(resolve(runtimeDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `virtkit-${hash}`);
}
