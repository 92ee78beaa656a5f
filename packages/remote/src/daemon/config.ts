import { readFileSync } from 'node:fs';
import { confGet, parseConf, VirtError, type ConfEntry } from '@virtkit/core';
import type { LogLevel } from './log.js';

/**
 * virtkitd's settings: the config file (libvirt's virconf syntax, like
 * libvirtd.conf) with command-line flags on top. Every field has a default
 * (see `defaultDaemonConfig`).
 */
export interface DaemonConfig {
  /** Serve embed-style state under this folder (`--root`). */
  root?: string;
  listenUnix?: string;
  listenUnixRo?: string;
  /** Socket file modes. */
  unixSockRwPerms: number;
  unixSockRoPerms: number;
  /** `host:port` for TLS with client certificates. */
  listenTls?: string;
  /** `host:port` for plain TCP: only when set explicitly. */
  listenTcp?: string;
  /** Plain TCP clients get read-only access unless this is false. */
  tcpReadonly: boolean;
  keyFile: string;
  certFile: string;
  caFile: string;
  /** Globs a client certificate's subject must match (empty: any certificate the CA signed). */
  tlsAllowedDnList: string[];
  maxClients: number;
  /** Connections that have not finished the handshake. */
  maxAnonymousClients: number;
  /** Calls in flight per client before the daemon stops reading from it. */
  maxClientRequests: number;
  /** Bytes queued to a client that does not read before the daemon drops it. */
  maxClientQueueBytes: number;
  /** Seconds between keepalive probes to an idle client (0: off), and unanswered probes before dropping it. */
  keepaliveInterval: number;
  keepaliveCount: number;
  /** Seconds a new connection has to finish the handshake. */
  handshakeTimeout: number;
  logLevel: LogLevel;
  /** Log file; stderr when unset. */
  logFile?: string;
  /** URIs opened when the daemon starts, so their autostart guests start without waiting for a client. */
  autostartUris: string[];
}

export function defaultDaemonConfig(): DaemonConfig {
  return {
    unixSockRwPerms: 0o600,
    unixSockRoPerms: 0o666,
    tcpReadonly: true,
    keyFile: '/etc/pki/virtkit/private/serverkey.pem',
    certFile: '/etc/pki/virtkit/servercert.pem',
    caFile: '/etc/pki/CA/cacert.pem',
    tlsAllowedDnList: [],
    maxClients: 5000,
    maxAnonymousClients: 2000,
    maxClientRequests: 256,
    maxClientQueueBytes: 64 * 1024 * 1024,
    keepaliveInterval: 5,
    keepaliveCount: 5,
    handshakeTimeout: 10,
    logLevel: 'info',
    autostartUris: [],
  };
}

type Kind = 'string' | 'int' | 'bool' | 'perms' | 'list' | 'level';
const KEYS: Record<string, [keyof DaemonConfig, Kind]> = {
  root: ['root', 'string'],
  listen_unix: ['listenUnix', 'string'],
  listen_unix_ro: ['listenUnixRo', 'string'],
  unix_sock_rw_perms: ['unixSockRwPerms', 'perms'],
  unix_sock_ro_perms: ['unixSockRoPerms', 'perms'],
  listen_tls: ['listenTls', 'string'],
  listen_tcp: ['listenTcp', 'string'],
  tcp_readonly: ['tcpReadonly', 'bool'],
  key_file: ['keyFile', 'string'],
  cert_file: ['certFile', 'string'],
  ca_file: ['caFile', 'string'],
  tls_allowed_dn_list: ['tlsAllowedDnList', 'list'],
  max_clients: ['maxClients', 'int'],
  max_anonymous_clients: ['maxAnonymousClients', 'int'],
  max_client_requests: ['maxClientRequests', 'int'],
  max_client_queue_bytes: ['maxClientQueueBytes', 'int'],
  keepalive_interval: ['keepaliveInterval', 'int'],
  keepalive_count: ['keepaliveCount', 'int'],
  handshake_timeout: ['handshakeTimeout', 'int'],
  log_level: ['logLevel', 'level'],
  log_file: ['logFile', 'string'],
  autostart_uris: ['autostartUris', 'list'],
};

/** Every name the config file may set (docs/remote.md lists them). */
export const DAEMON_CONFIG_KEYS = Object.keys(KEYS);

function fail(file: string, name: string, why: string): never {
  throw new VirtError('CONF_SYNTAX', `${file}: '${name}' ${why}`, { origin: 'virtkitd' });
}

/** Reads settings from config text onto `base`; unknown names are refused (a typo must not pass silently). */
export function parseDaemonConfig(text: string, file = 'virtkitd.conf', base: DaemonConfig = defaultDaemonConfig()): DaemonConfig {
  const entries: ConfEntry[] = parseConf(text, { filename: file });
  const cfg: DaemonConfig = { ...base };
  const set = cfg as unknown as Record<string, unknown>;
  for (const e of entries) {
    if (e.name === undefined) continue;
    const spec = KEYS[e.name];
    if (!spec) fail(file, e.name, `is not a virtkitd setting (known: ${DAEMON_CONFIG_KEYS.join(', ')})`);
    const [field, kind] = spec;
    const v = confGet(entries, e.name)!;
    switch (kind) {
      case 'string':
      case 'level':
      case 'perms': {
        if (v.type !== 'string') fail(file, e.name, 'must be a string');
        if (kind === 'string') set[field] = v.value;
        else if (kind === 'level') {
          if (!['debug', 'info', 'warn', 'error'].includes(v.value)) fail(file, e.name, 'must be debug, info, warn or error');
          set[field] = v.value;
        } else {
          if (!/^0?[0-7]{3}$/.test(v.value)) fail(file, e.name, 'must be an octal mode such as "0600"');
          set[field] = parseInt(v.value, 8);
        }
        break;
      }
      case 'int':
      case 'bool': {
        if (v.type !== 'int') fail(file, e.name, 'must be an integer');
        const n = Number(v.value);
        if (!Number.isSafeInteger(n) || n < 0) fail(file, e.name, 'must be a non-negative integer');
        set[field] = kind === 'bool' ? n !== 0 : n;
        break;
      }
      case 'list': {
        if (v.type === 'string') set[field] = [v.value];
        else if (v.type === 'list' && v.items.every((x) => x.type === 'string')) set[field] = v.items.map((x) => (x as { value: string }).value);
        else fail(file, e.name, 'must be a list of strings');
        break;
      }
    }
  }
  return cfg;
}

export function loadDaemonConfig(file: string, base?: DaemonConfig): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VirtError('CONF_SYNTAX', `cannot read config file ${file}: ${(err as Error).message}`, { origin: 'virtkitd', cause: err });
  }
  return parseDaemonConfig(text, file, base);
}

/** `host:port` → parts; IPv6 as `[::1]:16514`. */
export function parseHostPort(text: string, what: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::([0-9]{1,5}))?$/.exec(text.trim());
  const port = m?.[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!m || port < 1 || port > 65535) throw new VirtError('INVALID_ARG', `${what} '${text}' is not HOST:PORT`, { origin: 'virtkitd' });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
