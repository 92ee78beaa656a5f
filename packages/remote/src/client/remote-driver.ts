import type { Readable } from 'node:stream';
import { localPartOf, VirtError, type Capability, type DriverOpenContext, type HypervisorDriver, type JobContext } from '@virtkit/core';
import { kindOf } from '../protocol/args.js';
import { proceduresOf, type OpenReply, type Procedure, type Target } from '../protocol/schema.js';
import type { Transport } from '../transport/transport.js';
import { openTransport } from './open-transport.js';
import { RpcClient } from './rpc-client.js';

type Fn = (...args: unknown[]) => Promise<unknown>;

/**
 * Turns one procedure row into a driver method: JSON arguments go as they
 * are; a JobContext becomes a marker plus progress/cancel frames; a
 * Readable becomes the call's upload stream.
 */
function methodFor(rpc: RpcClient, proc: Procedure): Fn {
  const jobAt = proc.args.findIndex((a) => kindOf(a).kind === 'job');
  const sourceAt = proc.args.findIndex((a) => kindOf(a).kind === 'source');
  const result = proc.result;
  if (jobAt < 0 && sourceAt < 0 && result === 'json') {
    // The common case: nothing to take apart.
    return (...args) => rpc.call(proc.name, args);
  }
  return (...args) => {
    const wire = args.slice(0, proc.args.length);
    let job: JobContext | undefined;
    let source: Readable | undefined;
    if (jobAt >= 0 && wire[jobAt]) {
      job = wire[jobAt] as JobContext;
      wire[jobAt] = true;
    }
    if (sourceAt >= 0) {
      source = wire[sourceAt] as Readable | undefined;
      if (!source || typeof (source as Readable).pipe !== 'function') {
        return Promise.reject(new VirtError('INVALID_ARG', `${proc.name}: the data to send must be a readable stream`, { origin: 'remote' }));
      }
      wire[sourceAt] = true;
    }
    return rpc.call(proc.name, wire, { ...(job ? { job } : {}), ...(source ? { source } : {}), result });
  };
}

/** A driver-shaped object with the methods the daemon's side has. */
function targetObject(rpc: RpcClient, target: Target, present: string[]): Record<string, Fn> {
  const has = new Set(present);
  const obj: Record<string, Fn> = {};
  for (const proc of proceduresOf(target)) if (has.has(proc.method)) obj[proc.method] = methodFor(rpc, proc);
  return obj;
}

/** `keepalive_interval=S` / `keepalive_count=N` URI parameters (libvirt's virConnectSetKeepAlive, per URI). */
function keepaliveOf(uri: DriverOpenContext['uri']): { keepaliveIntervalMs?: number; keepaliveCount?: number } {
  const num = (name: string): number | undefined => {
    const v = uri.params[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new VirtError('INVALID_ARG', `URI '${uri.raw}': ${name} must be a non-negative number`, { origin: 'remote' });
    return n;
  };
  const interval = num('keepalive_interval');
  const count = num('keepalive_count');
  return { ...(interval !== undefined ? { keepaliveIntervalMs: interval * 1000 } : {}), ...(count !== undefined ? { keepaliveCount: count } : {}) };
}

export interface RemoteDriver extends HypervisorDriver {
  /** The protocol client (tests, benchmarks). */
  readonly rpc: RpcClient;
  /** What the daemon answered at open. */
  readonly session: OpenReply;
}

/**
 * The `remote` driver: reaches a virtkitd (unix socket, SSH, TLS or TCP),
 * asks it to open the URI's local part, and forwards every call of the
 * driver contract to it. Events the daemon sends go to the connection's bus.
 */
export async function openRemoteDriver(ctx: DriverOpenContext): Promise<RemoteDriver> {
  const { uri } = ctx;
  const transport: Transport = await openTransport(uri, { readonly: ctx.readonly, ...(ctx.prompt ? { prompt: ctx.prompt } : {}) });
  let rpc: RpcClient;
  try {
    rpc = await RpcClient.connect(transport.socket, {
      label: transport.label,
      ...keepaliveOf(uri),
      onEvent: (e) => ctx.events.emit(e),
      onLost: (reason) => ctx.connectionLost?.(reason),
    });
  } catch (err) {
    transport.dispose();
    transport.socket.destroy();
    throw err;
  }
  let session: OpenReply;
  try {
    session = (await rpc.call('connect.open', [{ uri: localPartOf(uri), readonly: ctx.readonly }])) as OpenReply;
    if (!session || typeof session !== 'object' || !Array.isArray(session.capabilities) || typeof session.targets !== 'object') {
      throw new VirtError('RPC', `${transport.label} answered connect.open with something that is not a session description`, { origin: 'remote' });
    }
  } catch (err) {
    await rpc.close().catch(() => {});
    transport.dispose();
    throw err;
  }

  const host = targetObject(rpc, 'host', session.targets.host ?? []);
  const part = (t: Exclude<Target, 'host'>) => (session.targets[t] ? targetObject(rpc, t, session.targets[t]!) : undefined);
  const need = (m: string): Fn =>
    host[m] ?? (async () => Promise.reject(new VirtError('NO_SUPPORT', `${m}: not supported by the daemon's ${session.driver} driver`, { origin: 'remote' })));

  const driver = {
    name: session.driver,
    capabilities: new Set<Capability>(session.capabilities),
    uri: uri.raw,
    rpc,
    session,
    getHostname: need('getHostname'),
    getVersion: need('getVersion'),
    getCapabilities: need('getCapabilities'),
    getNodeInfo: need('getNodeInfo'),
    ...(host.getFreeMemory ? { getFreeMemory: host.getFreeMemory } : {}),
    domains: part('domains'),
    networks: part('networks'),
    storage: part('storage'),
    interfaces: part('interfaces'),
    close: async () => {
      await rpc.close();
      transport.dispose();
    },
  };
  return driver as unknown as RemoteDriver;
}
