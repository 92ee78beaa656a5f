import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { DAEMON_SOCKET, DAEMON_SOCKET_RO, daemonRuntimeDirForRoot, PluginLoader, sessionDirs, socketDirFor, systemDirs, VirtError, type Connection } from '@virtkit/core';
import { encodeJsonFrame, FrameType } from '../protocol/frame.js';
import { DEFAULT_TCP_PORT, DEFAULT_TLS_PORT } from '../transport/tls.js';
import { parseHostPort, type DaemonConfig } from './config.js';
import { ConnectionPool, resolveServedUri } from './connections.js';
import { JsonLogger } from './log.js';
import { ClientSession, type SessionInfo } from './session.js';
import { dnAllowed, formatDn } from './tls-allow.js';

export type ListenSpec =
  | { kind: 'unix'; path: string; readonly: boolean }
  | { kind: 'tls'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number };

export interface DaemonOptions {
  config: DaemonConfig;
  log?: JsonLogger;
  /** Plugin loader for the drivers served (default: the daemon's own node_modules tree and VIRTKIT_PLUGIN_PATH). */
  loader?: PluginLoader;
  /** How long an unused driver connection stays open (ms). */
  idleCloseMs?: number;
}

/** The daemon's default socket paths: `<runtime>/virtkit-sock` and `-ro` of its URI family. */
export function defaultSocketPaths(config: Pick<DaemonConfig, 'root'>): { rw: string; ro: string } {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const runtime = config.root ? daemonRuntimeDirForRoot(config.root) : root ? systemDirs().runtime : sessionDirs().runtime;
  const dir = socketDirFor(runtime);
  return { rw: join(dir, DAEMON_SOCKET), ro: join(dir, DAEMON_SOCKET_RO) };
}

/** Whether something accepts connections on a unix socket path. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * virtkitd: serves the drivers installed on this host to clients on a
 * read-write and a read-only unix socket, and optionally TLS (client
 * certificates checked against an allow-list) and plain TCP.
 */
export class Daemon {
  readonly software = 'virtkitd/0.1.0';
  readonly config: DaemonConfig;
  readonly log: JsonLogger;
  readonly pool: ConnectionPool;
  readonly sessions = new Set<ClientSession>();
  private readonly servers: Server[] = [];
  private readonly socketFiles: string[] = [];
  private nextClient = 1;
  private stopping = false;
  /** Where each listener ended up (`unix:/path`, `tls:127.0.0.1:16514`). */
  readonly listening: string[] = [];

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.log = opts.log ?? new JsonLogger(opts.config.logLevel, opts.config.logFile);
    const here = dirname(fileURLToPath(import.meta.url));
    const loader = opts.loader ?? PluginLoader.forProcess([here]);
    this.pool = new ConnectionPool(loader, opts.idleCloseMs ?? 30_000, (uri, conn) => this.autostart(uri, conn));
  }

  /**
   * libvirtd starts the autostart guests when it starts; virtkitd does it
   * when it first opens a URI (the driver keeps libvirt's once-per-boot
   * rule). Failures are logged, never passed to the client that opened.
   */
  private async autostart(uri: string, conn: Connection): Promise<void> {
    const driver = conn.driver;
    if (typeof driver.startAutostart !== 'function' || process.env.VIRTKIT_NO_AUTOSTART === '1') return;
    try {
      const report = await driver.startAutostart();
      if (!report) {
        this.log.debug('autostart already done since boot', { uri });
        return;
      }
      this.log.info('autostart', { uri, started: report.started, failed: report.failed.map((f) => f.name) });
      for (const f of report.failed) this.log.warn('autostart failed', { uri, domain: f.name, error: f.error });
    } catch (err) {
      this.log.warn('autostart failed', { uri, error: (err as Error).message });
    }
  }

  /** What to listen on, from the config: both unix sockets always, TLS and TCP when asked. */
  listenSpecs(): ListenSpec[] {
    const defaults = defaultSocketPaths(this.config);
    const specs: ListenSpec[] = [
      { kind: 'unix', path: this.config.listenUnix ?? defaults.rw, readonly: false },
      { kind: 'unix', path: this.config.listenUnixRo ?? defaults.ro, readonly: true },
    ];
    if (this.config.listenTls) specs.push({ kind: 'tls', ...parseHostPort(this.config.listenTls, 'listen_tls', DEFAULT_TLS_PORT) });
    if (this.config.listenTcp) specs.push({ kind: 'tcp', ...parseHostPort(this.config.listenTcp, 'listen_tcp', DEFAULT_TCP_PORT) });
    return specs;
  }

  async start(specs: ListenSpec[] = this.listenSpecs()): Promise<void> {
    // A folder made for sockets is owner-only, unless a read-only socket must be reachable in it.
    const dirModes = new Map<string, number>();
    for (const s of specs) {
      if (s.kind !== 'unix') continue;
      const dir = dirname(s.path);
      dirModes.set(dir, (dirModes.get(dir) ?? 0o700) | (s.readonly ? 0o755 : 0o700));
    }
    try {
      for (const [dir, mode] of dirModes) if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode });
      for (const s of specs) {
        if (s.kind === 'unix') await this.listenUnix(s.path, s.readonly);
        else if (s.kind === 'tls') await this.listenTls(s.host, s.port);
        else await this.listenTcp(s.host, s.port);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info('virtkitd started', { pid: process.pid, listening: this.listening, root: this.config.root ?? null });
    void this.openAutostartUris();
  }

  /** `autostart_uris`: opened at start (in the background: clients are served meanwhile), running their autostart. */
  private async openAutostartUris(): Promise<void> {
    for (const requested of this.config.autostartUris) {
      if (this.stopping) return;
      try {
        const { release } = await this.pool.acquire(resolveServedUri(requested, this.config.root));
        release();
      } catch (err) {
        this.log.warn('autostart failed', { uri: requested, error: (err as Error).message });
      }
    }
  }

  private async listenUnix(path: string, readonly: boolean): Promise<void> {
    if (existsSync(path)) {
      if (await socketAnswers(path)) {
        throw new VirtError('OPERATION_FAILED', `another virtkitd is already listening on ${path}`, { origin: 'virtkitd' });
      }
      // Left behind by a daemon that died (kill -9): take it over.
      if (lstatSync(path).isSocket()) unlinkSync(path);
      else throw new VirtError('OPERATION_FAILED', `${path} exists and is not a socket`, { origin: 'virtkitd' });
    }
    const server = createServer((sock) => this.accept(sock, { access: readonly ? 'unix-ro' : 'unix', peer: path, readonly }));
    // Created owner-only, then opened up as configured: no window with looser modes.
    const old = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ path, backlog: 4096 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    chmodSync(path, readonly ? this.config.unixSockRoPerms : this.config.unixSockRwPerms);
    this.servers.push(server);
    this.socketFiles.push(path);
    this.listening.push(`unix${readonly ? '-ro' : ''}:${path}`);
  }

  private readPem(what: string, file: string): Buffer {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new VirtError('OPERATION_FAILED', `cannot read the TLS ${what} ${file}: ${(err as Error).message}`, { origin: 'virtkitd', cause: err });
    }
  }

  private async listenTls(host: string, port: number): Promise<void> {
    const c = this.config;
    const server = createTlsServer({
      key: this.readPem('key', c.keyFile),
      cert: this.readPem('certificate', c.certFile),
      ca: this.readPem('CA certificate', c.caFile),
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: c.handshakeTimeout * 1000,
    });
    server.on('secureConnection', (sock: TLSSocket) => {
      const peer = `${sock.remoteAddress}:${sock.remotePort}`;
      const cert = sock.getPeerCertificate();
      const identity = formatDn(cert?.subject);
      if (!dnAllowed(cert?.subject, c.tlsAllowedDnList)) {
        this.log.warn('refused', { access: 'tls', peer, identity, reason: 'client certificate is not in tls_allowed_dn_list' });
        const err = new VirtError('ACCESS_DENIED', `client certificate '${identity}' is not allowed by this virtkitd (tls_allowed_dn_list)`, { origin: 'virtkitd' });
        sock.end(encodeJsonFrame(FrameType.ERROR, 0, err.toJSON()));
        setTimeout(() => sock.destroy(), 1000).unref();
        return;
      }
      this.accept(sock, { access: 'tls', peer, readonly: false, identity });
    });
    server.on('tlsClientError', (err: Error, sock: TLSSocket) => {
      this.log.warn('refused', { access: 'tls', peer: `${sock.remoteAddress}:${sock.remotePort}`, reason: `TLS handshake failed: ${err.message}` });
    });
    await this.listenTcpServer(server, host, port, 'tls');
  }

  private async listenTcp(host: string, port: number): Promise<void> {
    const server = createServer((sock: Socket) => {
      sock.setNoDelay(true);
      this.accept(sock, { access: 'tcp', peer: `${sock.remoteAddress}:${sock.remotePort}`, readonly: this.config.tcpReadonly });
    });
    this.log.warn('plain TCP listener enabled: traffic is neither encrypted nor authenticated', { host, port, readonly: this.config.tcpReadonly });
    await this.listenTcpServer(server, host, port, 'tcp');
  }

  private async listenTcpServer(server: Server, host: string, port: number, kind: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    const actual = addr && typeof addr === 'object' ? addr.port : port;
    this.servers.push(server);
    this.listening.push(`${kind}:${host}:${actual}`);
  }

  /** Takes a connected client (from a listener, or stdio). */
  accept(socket: Duplex, info: SessionInfo): ClientSession | undefined {
    const refuse = (reason: string) => {
      this.log.warn('refused', { access: info.access, peer: info.peer, reason });
      const err = new VirtError('RESOURCE_BUSY', `virtkitd refused the connection: ${reason}`, { origin: 'virtkitd' });
      socket.end(encodeJsonFrame(FrameType.ERROR, 0, err.toJSON()));
      setTimeout(() => socket.destroy(), 1000).unref();
      return undefined;
    };
    if (this.stopping) return refuse('the daemon is shutting down');
    if (this.sessions.size >= this.config.maxClients) return refuse(`too many clients (max_clients = ${this.config.maxClients})`);
    let anonymous = 0;
    for (const s of this.sessions) if (s.isAnonymous) anonymous++;
    if (anonymous >= this.config.maxAnonymousClients) {
      return refuse(`too many connections still in their handshake (max_anonymous_clients = ${this.config.maxAnonymousClients})`);
    }
    socket.on('error', () => {});
    const session = new ClientSession(this, this.nextClient++, socket, info);
    this.sessions.add(session);
    return session;
  }

  forget(session: ClientSession): void {
    this.sessions.delete(session);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const s of this.servers) s.close();
    for (const s of [...this.sessions]) s.close();
    await this.pool.closeAll();
    for (const f of this.socketFiles) {
      try {
        unlinkSync(f);
      } catch {
        /* already gone */
      }
    }
    this.log.info('virtkitd stopped', { pid: process.pid });
  }
}
