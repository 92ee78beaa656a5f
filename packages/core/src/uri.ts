import { VirtError } from './errors.js';

/**
 * A connection URI in libvirt's form:
 * `driver[+transport]://[user@][host][:port]/path[?params]`.
 */
export interface VirtUri {
  /** The text as given. */
  readonly raw: string;
  /** Hypervisor driver name: `qemu`, `lxc`, `xen`, `test`, or a third party's. */
  readonly driver: string;
  /** `ssh`, `unix`, `tcp`, `tls`, … when given after `+`. */
  readonly transport?: string;
  readonly user?: string;
  readonly host?: string;
  readonly port?: number;
  /** `/system`, `/session`, `/embed`, `/default`, a fixture path, or `''`. */
  readonly path: string;
  /** Query parameters, decoded, in order. */
  readonly params: Readonly<Record<string, string>>;
}

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9._-]*)(?:\+([A-Za-z][A-Za-z0-9._-]*))?:/;

/**
 * Parses a libvirt connection URI. Refuses anything it cannot read with
 * INVALID_ARG naming the URI.
 */
export function parseUri(text: string): VirtUri {
  if (typeof text !== 'string' || text.trim() === '') throw new VirtError('INVALID_ARG', 'connection URI is empty');
  if (text.length > 4096) throw new VirtError('INVALID_ARG', 'connection URI is longer than 4096 characters');
  if (/[\s\u0000-\u001f]/.test(text)) throw new VirtError('INVALID_ARG', `connection URI '${text}' contains blanks or control characters`);
  const bad = (why: string) => new VirtError('INVALID_ARG', `cannot parse connection URI '${text}': ${why}`);
  const m = SCHEME_RE.exec(text);
  if (!m) throw bad('it does not start with a scheme such as qemu:// or test://');
  const driver = m[1]!.toLowerCase();
  const transport = m[2]?.toLowerCase();
  let rest = text.slice(m[0].length);

  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);

  let user: string | undefined;
  let host: string | undefined;
  let port: number | undefined;
  let path: string;
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    let authority = slash >= 0 ? rest.slice(0, slash) : rest;
    path = slash >= 0 ? rest.slice(slash) : '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      user = decode(authority.slice(0, at), bad);
      authority = authority.slice(at + 1);
    }
    if (authority.startsWith('[')) {
      const end = authority.indexOf(']');
      if (end < 0) throw bad('unterminated IPv6 address');
      host = authority.slice(1, end);
      const after = authority.slice(end + 1);
      if (after) {
        if (!after.startsWith(':')) throw bad(`unexpected '${after}' after the host`);
        port = parsePort(after.slice(1), bad);
      }
    } else {
      const colon = authority.lastIndexOf(':');
      if (colon >= 0) {
        port = parsePort(authority.slice(colon + 1), bad);
        authority = authority.slice(0, colon);
      }
      if (authority) host = decode(authority, bad);
    }
    if (host !== undefined && !/^[A-Za-z0-9._:%-]+$/.test(host)) throw bad(`invalid host name '${host}'`);
  } else {
    // Opaque form such as `test:default` is not something libvirt accepts either.
    throw bad("expected '//' after the scheme");
  }
  path = decode(path, bad);
  if (path.includes('\0')) throw bad('path contains a NUL character');

  const params: Record<string, string> = {};
  if (query) {
    for (const pair of query.split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const k = decode((eq >= 0 ? pair.slice(0, eq) : pair).replace(/\+/g, ' '), bad);
      const v = decode((eq >= 0 ? pair.slice(eq + 1) : '').replace(/\+/g, ' '), bad);
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw bad(`parameter name '${k}' is not allowed`);
      params[k] = v;
    }
  }
  const uri: VirtUri = { raw: text, driver, path, params };
  return Object.freeze({
    ...uri,
    ...(transport !== undefined ? { transport } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
  });
}

function decode(s: string, bad: (why: string) => VirtError): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(`invalid percent-encoding in '${s}'`);
  }
}

function parsePort(s: string, bad: (why: string) => VirtError): number | undefined {
  if (s === '') return undefined;
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535 || Number(s) === 0) throw bad(`invalid port '${s}'`);
  return Number(s);
}

/**
 * A URI is remote, as libvirt decides it, when it names a transport or a
 * host: it then goes to the `remote` driver.
 */
export function isRemoteUri(uri: VirtUri): boolean {
  return uri.transport !== undefined || (uri.host !== undefined && uri.host !== '');
}

/** Formats a URI back into libvirt's text form. */
export function formatUri(uri: Omit<VirtUri, 'raw'>): string {
  let s = uri.driver;
  if (uri.transport) s += `+${uri.transport}`;
  s += '://';
  if (uri.user) s += `${encodeURIComponent(uri.user)}@`;
  if (uri.host) s += uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  if (uri.port) s += `:${uri.port}`;
  s += encodeURI(uri.path);
  const q = Object.entries(uri.params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (q.length) s += `?${q.join('&')}`;
  return s;
}

/** The same URI without transport, host, user and port: what the remote daemon opens locally. */
export function localPartOf(uri: VirtUri): string {
  const params = { ...uri.params };
  // Parameters the client consumed (transport settings) do not reach the daemon.
  for (const k of ['socket', 'keyfile', 'known_hosts', 'known_hosts_verify', 'no_verify', 'no_tty', 'pkipath', 'command', 'netcat', 'sshauth', 'name', 'mode', 'proxy', 'tls_priority', 'password', 'keepalive_interval', 'keepalive_count']) {
    delete params[k];
  }
  return formatUri({ driver: uri.driver, path: uri.path, params });
}
