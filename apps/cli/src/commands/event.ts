import { describeEvent, VirtError, type VirtEvent, type VirtEventKind } from '@virtkit/core';
import type { CommandContext, CommandDef, OptionDef } from '../command.js';

const DOMAIN_EVENTS = ['lifecycle', 'reboot', 'device-removed', 'device-added', 'balloon-change', 'job-completed', 'migration-iteration'];

function timestamp(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}+0000`;
}

/**
 * Waits for events as virsh's event commands do: one event, or with
 * `--loop` until Ctrl-C or `--timeout` seconds; then `events received: N`.
 * The command fails when no event arrived.
 */
async function waitForEvents(ctx: CommandContext, kind: VirtEventKind | '*', accept: (e: VirtEvent) => boolean): Promise<boolean> {
  const conn = await ctx.conn();
  const loop = ctx.opts.flag('loop');
  const timeout = ctx.opts.int('timeout', 1, 2_000_000);
  const stamp = ctx.opts.flag('timestamp');
  let count = 0;
  let lostReason: Error | undefined;
  const outcome = await new Promise<'done' | 'timeout' | 'interrupt' | 'lost'>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onSigint = () => finish('interrupt');
    const offLost = conn.onLost((r) => {
      lostReason = r;
      finish('lost');
    });
    const off = conn.on(kind, (e: VirtEvent) => {
      if (!accept(e)) return;
      count++;
      ctx.out.write(`${stamp ? `${timestamp()}: ` : ''}${describeEvent(e)}\n`);
      if (!loop) finish('done');
    });
    const finish = (why: 'done' | 'timeout' | 'interrupt' | 'lost') => {
      off();
      offLost();
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSigint);
      resolve(why);
    };
    process.on('SIGINT', onSigint);
    if (timeout) timer = setTimeout(() => finish('timeout'), timeout * 1000);
  });
  if (outcome === 'lost') throw new VirtError('RPC', `event loop ended: the connection was lost (${lostReason?.message ?? 'unknown reason'}), after ${count} events`);
  if (outcome === 'interrupt') ctx.out.write('event loop interrupted\n');
  if (outcome === 'timeout') ctx.out.write('event loop timed out\n');
  ctx.out.write(`events received: ${count}\n`);
  return count > 0;
}

const common: OptionDef[] = [
  { name: 'loop', type: 'bool', help: 'loop until timeout or interrupt, rather than one-shot' },
  { name: 'timeout', type: 'int', help: 'timeout seconds' },
  { name: 'timestamp', type: 'bool', help: 'show timestamp for each printed event' },
];

const event: CommandDef = {
  name: 'event',
  group: 'Domain Events',
  summary: 'Domain Events',
  description: 'List event types, or wait for domain events to occur',
  options: [
    { name: 'domain', type: 'string', help: 'filter by domain name, id or uuid' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'all', type: 'bool', help: 'wait for all events instead of just one type' },
    { name: 'list', type: 'bool', help: 'list valid event types' },
    ...common,
  ],
  async run(ctx) {
    if (ctx.opts.flag('list')) {
      for (const e of DOMAIN_EVENTS) ctx.out.write(`${e}\n`);
      return;
    }
    const type = ctx.opts.str('event');
    if (!type && !ctx.opts.flag('all')) throw new VirtError('INVALID_ARG', 'one of --list, --all, or --event <type> is required');
    if (type && !DOMAIN_EVENTS.includes(type)) throw new VirtError('INVALID_ARG', `unknown event type ${type}`);
    const dom = ctx.opts.str('domain') ? await ctx.domain() : undefined;
    return waitForEvents(ctx, '*', (e) => {
      if (e.kind !== 'domain' && e.kind !== 'domain-event') return false;
      if (dom && e.domain.uuid !== dom.uuid) return false;
      if (!type) return true;
      return type === 'lifecycle' ? e.kind === 'domain' : e.kind === 'domain-event' && e.event === type;
    });
  },
};

const netEvent: CommandDef = {
  name: 'net-event',
  group: 'Networking',
  summary: 'Network Events',
  options: [
    { name: 'network', type: 'string', help: 'filter by network name or uuid' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'list', type: 'bool', help: 'list valid event types' },
    ...common,
  ],
  async run(ctx) {
    if (ctx.opts.flag('list')) return void ctx.out.write('lifecycle\n');
    const net = ctx.opts.str('network') ? await ctx.network() : undefined;
    return waitForEvents(ctx, 'network', (e) => e.kind === 'network' && (!net || e.network.uuid === net.uuid));
  },
};

const poolEvent: CommandDef = {
  name: 'pool-event',
  group: 'Storage Pool',
  summary: 'Storage Pool Events',
  options: [
    { name: 'pool', type: 'string', help: 'filter by storage pool name or uuid' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'list', type: 'bool', help: 'list valid event types' },
    ...common,
  ],
  async run(ctx) {
    if (ctx.opts.flag('list')) return void ctx.out.write('lifecycle\nrefresh\n');
    const pool = ctx.opts.str('pool') ? await ctx.pool() : undefined;
    return waitForEvents(ctx, 'pool', (e) => e.kind === 'pool' && (!pool || e.pool.uuid === pool.uuid));
  },
};

export const eventCommands: CommandDef[] = [event, netEvent, poolEvent];
