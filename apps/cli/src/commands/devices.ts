import { DOMAIN_STATES, domainStateReasonCode, escapeXml, formatXml, parseXml, VirtError, XmlElement, type Connection, type DeviceChangeOptions, type DomainJobInfo, type DomainState } from '@virtkit/core';
import { domainOption, failingAs, JSON_OPTION, type CommandContext, type CommandDef, type OptionDef } from '../command.js';
import { formatJson, formatKeyValues, formatTable, prettyCapacity } from '../output.js';
import { consoleCmd } from './console.js';
import { devicesOf, sourceOf } from './domain-devices.js';
import { readXmlFile } from './domain.js';
import { parseSize } from './storage.js';

/** --config/--live/--current/--persistent as virsh maps them to virDomainModificationImpact. */
const IMPACT_OPTIONS: OptionDef[] = [
  { name: 'persistent', type: 'bool', help: 'make live change persistent' },
  { name: 'config', type: 'bool', help: 'affect next boot' },
  { name: 'live', type: 'bool', help: 'affect running domain' },
  { name: 'current', type: 'bool', help: 'affect current domain' },
];
const IMPACT_EXCLUSIVE = [['current', 'live'], ['current', 'config'], ['current', 'persistent']];

async function impact(ctx: CommandContext, running: boolean): Promise<DeviceChangeOptions> {
  const o = ctx.opts;
  let config = o.flag('config');
  let live = o.flag('live');
  if (o.flag('persistent')) {
    config = true;
    live ||= running;
  }
  if (!config && !live) return { current: true };
  return { config, live };
}

/** Reads the domain's XML and returns its <devices> children of one kind. */
const domblklist: CommandDef = {
  name: 'domblklist',
  group: 'Domain Monitoring',
  summary: 'list all domain blocks',
  options: [domainOption(), { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' }, { name: 'details', type: 'bool', help: 'additionally display the type and device value' }, JSON_OPTION],
  async run(ctx) {
    const disks = await devicesOf(ctx, 'disk', ctx.opts.flag('inactive'));
    const rows = disks.map((d) => ({ type: d.attr('type') ?? 'file', device: d.attr('device') ?? 'disk', target: d.child('target')?.attr('dev') ?? '-', source: sourceOf(d) }));
    const details = ctx.opts.flag('details');
    if (ctx.json) return void ctx.out.write(formatJson(rows.map((r) => (details ? r : { target: r.target, source: r.source }))));
    const header = details ? ['Type', 'Device', 'Target', 'Source'] : ['Target', 'Source'];
    ctx.out.write(formatTable(header, rows.map((r) => (details ? [r.type, r.device, r.target, r.source] : [r.target, r.source])), !ctx.session.options.quiet));
  },
};

const domiflist: CommandDef = {
  name: 'domiflist',
  group: 'Domain Monitoring',
  summary: 'list all domain virtual interfaces',
  options: [domainOption(), { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' }, JSON_OPTION],
  async run(ctx) {
    const nics = await devicesOf(ctx, 'interface', ctx.opts.flag('inactive'));
    const rows = nics.map((n) => {
      const s = n.child('source');
      return {
        interface: n.child('target')?.attr('dev') ?? '-',
        type: n.attr('type') ?? '-',
        source: s?.attr('network') ?? s?.attr('bridge') ?? s?.attr('dev') ?? '-',
        model: n.child('model')?.attr('type') ?? '-',
        mac: n.child('mac')?.attr('address') ?? '-',
      };
    });
    if (ctx.json) return void ctx.out.write(formatJson(rows));
    ctx.out.write(formatTable(['Interface', 'Type', 'Source', 'Model', 'MAC'], rows.map((r) => [r.interface, r.type, r.source, r.model, r.mac]), !ctx.session.options.quiet));
  },
};

const domstats: CommandDef = {
  name: 'domstats',
  group: 'Domain Monitoring',
  summary: 'get statistics about one or multiple domains',
  options: [
    { name: 'domain', type: 'argv', help: 'list of domains to get stats for' },
    { name: 'state', type: 'bool', help: 'report domain state' },
    { name: 'cpu-total', type: 'bool', help: 'report domain physical cpu usage' },
    { name: 'balloon', type: 'bool', help: 'report domain balloon statistics' },
    { name: 'vcpu', type: 'bool', help: 'report domain virtual cpu information' },
    { name: 'interface', type: 'bool', help: 'report domain network interface information' },
    { name: 'block', type: 'bool', help: 'report domain block device statistics' },
    { name: 'list-active', type: 'bool', help: 'list only active domains' },
    { name: 'list-inactive', type: 'bool', help: 'list only inactive domains' },
    { name: 'list-persistent', type: 'bool', help: 'list only persistent domains' },
    { name: 'list-transient', type: 'bool', help: 'list only transient domains' },
    { name: 'list-running', type: 'bool', help: 'list only running domains' },
    { name: 'list-paused', type: 'bool', help: 'list only paused domains' },
    { name: 'list-shutoff', type: 'bool', help: 'list only shutoff domains' },
    { name: 'list-other', type: 'bool', help: 'list only domains in other states' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const conn = await ctx.conn();
    const names = ctx.opts.list('domain');
    const doms = names.length
      ? await Promise.all(names.map((n) => conn.resolveDomain(n).catch(() => { throw new VirtError('NO_DOMAIN', `failed to get domain '${n}'`); })))
      : await conn.listAllDomains(statsFilter(ctx));
    const groups = (['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'] as const).filter((g) => ctx.opts.flag(g)).map((g) => (g === 'cpu-total' ? 'cpu' : g === 'interface' ? 'net' : g));
    const all = [] as Array<{ name: string; stats: Record<string, unknown> }>;
    for (const d of doms) all.push({ name: d.name, stats: virshStats(await d.getStats(groups.length ? groups : undefined)) });
    if (ctx.json) return void ctx.out.write(formatJson(all));
    ctx.out.write(all.map(({ name, stats }) => `Domain: '${name}'\n${Object.entries(stats).map(([k, v]) => `  ${k}=${v}\n`).join('')}`).join('\n'));
  },
};

/** Stats as virsh prints them: the state reason as libvirt's number for the state. */
function virshStats(stats: Record<string, unknown>): Record<string, unknown> {
  const state = DOMAIN_STATES[Number(stats['state.state'])];
  const reason = stats['state.reason'];
  return state && typeof reason === 'string' ? { ...stats, 'state.reason': domainStateReasonCode(state, reason) } : stats;
}

/** domstats' --list-* options as a domain listing filter (virConnectGetAllDomainStats' flags). */
function statsFilter(ctx: CommandContext): Parameters<Connection['listAllDomains']>[0] {
  const f = (n: string) => ctx.opts.flag(n);
  const state: DomainState[] = [];
  if (f('list-running')) state.push('running');
  if (f('list-paused')) state.push('paused');
  if (f('list-shutoff')) state.push('shutoff');
  if (f('list-other')) state.push('nostate', 'blocked', 'shutdown', 'crashed', 'pmsuspended');
  return {
    active: !f('list-inactive') || f('list-active'),
    inactive: !f('list-active') || f('list-inactive'),
    persistent: f('list-persistent'),
    transient: f('list-transient'),
    ...(state.length ? { state } : {}),
  };
}

const setmem: CommandDef = {
  name: 'setmem',
  group: 'Domain Management',
  summary: 'change memory allocation',
  options: [domainOption(), { name: 'size', type: 'string', required: true, positional: true, help: 'new memory size, as scaled integer (default KiB)' }, ...IMPACT_OPTIONS.filter((o) => o.name !== 'persistent')],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const d = await ctx.domain();
    const kib = kibArg(ctx.opts.req('size'));
    await d.setMemory(kib, await impact(ctx, d.id >= 0));
  },
};

const setmaxmem: CommandDef = {
  name: 'setmaxmem',
  group: 'Domain Management',
  summary: 'change maximum memory limit',
  options: [domainOption(), { name: 'size', type: 'string', required: true, positional: true, help: 'new maximum memory size, as scaled integer (default KiB)' }, ...IMPACT_OPTIONS.filter((o) => o.name !== 'persistent')],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const d = await ctx.domain();
    await d.setMemory(kibArg(ctx.opts.req('size')), { ...(await impact(ctx, d.id >= 0)), maximum: true });
  },
};

/** A memory size argument: KiB by default, any unit virsh takes. */
function kibArg(text: string): number {
  const m = /^\s*([0-9]+)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) throw new VirtError('INVALID_ARG', `Invalid memory size '${text}'`);
  return Math.ceil(parseSize(m[2] ? text : `${m[1]}KiB`, 'memory size') / 1024);
}

const setvcpus: CommandDef = {
  name: 'setvcpus',
  group: 'Domain Management',
  summary: 'change number of virtual CPUs',
  options: [
    domainOption(),
    { name: 'count', type: 'int', required: true, positional: true, help: 'number of virtual CPUs' },
    { name: 'maximum', type: 'bool', help: 'set maximum limit on next boot' },
    ...IMPACT_OPTIONS.filter((o) => o.name !== 'persistent'),
    { name: 'guest', type: 'bool', help: 'modify cpu state in the guest' },
    { name: 'hotpluggable', type: 'bool', help: 'make added vcpus hot(un)pluggable' },
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const d = await ctx.domain();
    const count = ctx.opts.int('count', 1, 16384)!;
    const change = await impact(ctx, d.id >= 0);
    // vCPUs added to a running guest are hot-pluggable anyway; marking them so in the definition is not implemented.
    if (ctx.opts.flag('hotpluggable') && change.config) throw new VirtError('ARGUMENT_UNSUPPORTED', `domain '${d.name}': --hotpluggable with --config is not supported (vCPUs added live are hot-pluggable)`);
    await d.setVcpus(count, { ...change, maximum: ctx.opts.flag('maximum'), guest: ctx.opts.flag('guest') });
  },
};

function deviceFileCommand(name: string, summary: string, verb: 'attached' | 'detached' | 'updated', act: (ctx: CommandContext, xml: string, opts: DeviceChangeOptions) => Promise<void>): CommandDef {
  return {
    name,
    group: 'Domain Management',
    summary,
    options: [domainOption(), { name: 'file', type: 'string', required: true, positional: true, help: 'XML file' }, ...IMPACT_OPTIONS],
    exclusive: IMPACT_EXCLUSIVE,
    async run(ctx) {
      const d = await ctx.domain();
      const file = ctx.opts.req('file');
      const xml = await readXmlFile(file);
      await failingAs(`Failed to ${name.slice(0, name.indexOf('-'))} device from ${file}`, act(ctx, xml, await impact(ctx, d.id >= 0)));
      ctx.out.write(`Device ${verb} successfully\n`);
    },
  };
}

const attachDevice = deviceFileCommand('attach-device', 'attach device from an XML file', 'attached', async (ctx, xml, o) => (await ctx.domain()).attachDevice(xml, o));
const detachDevice = deviceFileCommand('detach-device', 'detach device from an XML file', 'detached', async (ctx, xml, o) => (await ctx.domain()).detachDevice(xml, o));
const updateDevice = deviceFileCommand('update-device', 'update device from an XML file', 'updated', async (ctx, xml, o) => (await ctx.domain()).updateDevice(xml, o));

/** The <disk> element virsh's attach-disk builds from its options. */
export function buildDiskXml(o: { source: string; target: string; type?: string; device?: string; bus?: string; driver?: string; subdriver?: string; cache?: string; mode?: string; sourcetype?: string; serial?: string }): string {
  const e = escapeXml;
  const sourcetype = o.sourcetype ?? (o.source.startsWith('/dev/') ? 'block' : 'file');
  const srcAttr = sourcetype === 'block' ? 'dev' : 'file';
  let x = `<disk type='${e(sourcetype)}' device='${e(o.type ?? o.device ?? 'disk')}'>\n`;
  if (o.driver || o.subdriver || o.cache) {
    x += `  <driver${o.driver ? ` name='${e(o.driver)}'` : " name='qemu'"}${o.subdriver ? ` type='${e(o.subdriver)}'` : ''}${o.cache ? ` cache='${e(o.cache)}'` : ''}/>\n`;
  }
  x += `  <source ${srcAttr}='${e(o.source)}'/>\n  <target dev='${e(o.target)}'${o.bus ? ` bus='${e(o.bus)}'` : ''}/>\n`;
  if (o.mode === 'readonly') x += '  <readonly/>\n';
  if (o.mode === 'shareable') x += '  <shareable/>\n';
  if (o.serial) x += `  <serial>${e(o.serial)}</serial>\n`;
  return `${x}</disk>\n`;
}

const attachDisk: CommandDef = {
  name: 'attach-disk',
  group: 'Domain Management',
  summary: 'attach disk device',
  options: [
    domainOption(),
    { name: 'source', type: 'string', required: true, positional: true, help: 'source of disk device or name of network disk' },
    { name: 'target', type: 'string', required: true, positional: true, help: 'target of disk device' },
    { name: 'targetbus', type: 'string', help: 'target bus of disk device' },
    { name: 'driver', type: 'string', help: 'driver of disk device' },
    { name: 'subdriver', type: 'string', help: 'subdriver of disk device' },
    { name: 'cache', type: 'string', help: 'cache mode of disk device' },
    { name: 'type', type: 'string', help: 'target device type' },
    { name: 'mode', type: 'string', help: 'mode of device reading and writing' },
    { name: 'sourcetype', type: 'string', help: 'type of source (block|file|network)' },
    { name: 'serial', type: 'string', help: 'serial of disk device' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than attach the disk' },
    ...IMPACT_OPTIONS,
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const o = ctx.opts;
    const xml = buildDiskXml({
      source: o.req('source'),
      target: o.req('target'),
      ...(o.str('type') ? { type: o.str('type')! } : {}),
      ...(o.str('targetbus') ? { bus: o.str('targetbus')! } : {}),
      ...(o.str('driver') ? { driver: o.str('driver')! } : {}),
      ...(o.str('subdriver') ? { subdriver: o.str('subdriver')! } : {}),
      ...(o.str('cache') ? { cache: o.str('cache')! } : {}),
      ...(o.str('mode') ? { mode: o.str('mode')! } : {}),
      ...(o.str('sourcetype') ? { sourcetype: o.str('sourcetype')! } : {}),
      ...(o.str('serial') ? { serial: o.str('serial')! } : {}),
    });
    if (o.flag('print-xml')) return void ctx.out.write(xml);
    const d = await ctx.domain();
    await failingAs('Failed to attach disk', d.attachDevice(xml, await impact(ctx, d.id >= 0)));
    ctx.out.write('Disk attached successfully\n');
  },
};

const detachDisk: CommandDef = {
  name: 'detach-disk',
  group: 'Domain Management',
  summary: 'detach disk device',
  options: [
    domainOption(),
    { name: 'target', type: 'string', required: true, positional: true, help: 'target of disk device' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than detach the disk' },
    ...IMPACT_OPTIONS,
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const d = await ctx.domain();
    const o = await impact(ctx, d.id >= 0);
    const target = ctx.opts.req('target');
    const disks = await devicesOf(ctx, 'disk', !!o.config && !o.live);
    const disk = disks.find((x) => x.child('target')?.attr('dev') === target || sourceOf(x) === target);
    if (!disk) throw new VirtError('NO_DEVICE', `No disk found whose source path or target is ${target}`);
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(`${formatXml(disk)}\n`);
    await failingAs('Failed to detach disk', d.detachDevice(formatXml(disk), o));
    ctx.out.write('Disk detached successfully\n');
  },
};

/**
 * The disk element `change-media` hands to update-device: the cdrom or
 * floppy as defined, with its media ejected (no `<source>`), inserted or
 * replaced (a file, or a block device with --block).
 */
export function mediaChanged(disk: XmlElement, action: 'eject' | 'insert' | 'update', source: string | undefined, block: boolean): XmlElement {
  const target = disk.child('target')?.attr('dev') ?? '?';
  // Live XML shows an empty drive as <source index='N'/>: media means a path.
  const has = sourceOf(disk) !== '-';
  if (action === 'eject' && !has) throw new VirtError('OPERATION_INVALID', `The disk device '${target}' doesn't have media`);
  if (action === 'insert' && has) throw new VirtError('OPERATION_INVALID', `The disk device '${target}' already has media`);
  if (action !== 'eject' && !source) throw new VirtError('INVALID_ARG', 'New disk media source was not specified');
  const out = disk.clone();
  out.children = out.children.filter((c) => typeof c === 'string' || c.name !== 'source');
  if (action !== 'eject') {
    out.attrs.type = block ? 'block' : 'file';
    const at = out.children.findIndex((c) => typeof c !== 'string' && c.name === 'target');
    out.children.splice(at < 0 ? 0 : at, 0, new XmlElement('source', block ? { dev: source! } : { file: source! }));
  }
  return out;
}

const MEDIA_DONE = { eject: 'ejected', insert: 'inserted', update: 'updated' } as const;

const changeMedia: CommandDef = {
  name: 'change-media',
  group: 'Domain Management',
  summary: 'Change media of CD or floppy drive',
  options: [
    domainOption(),
    { name: 'path', type: 'string', required: true, positional: true, help: 'Fully-qualified path or target of disk device' },
    { name: 'source', type: 'string', positional: true, help: 'source of the media' },
    { name: 'eject', type: 'bool', help: 'Eject the media' },
    { name: 'insert', type: 'bool', help: 'Insert the media' },
    { name: 'update', type: 'bool', help: 'Update the media' },
    ...IMPACT_OPTIONS.filter((o) => o.name !== 'persistent'),
    { name: 'force', type: 'bool', help: 'force media changing' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than change media' },
    { name: 'block', type: 'bool', help: 'source media is a block device' },
  ],
  exclusive: [['eject', 'insert', 'update'], ['current', 'live'], ['current', 'config']],
  async run(ctx) {
    const d = await ctx.domain();
    const o = await impact(ctx, d.id >= 0);
    const path = ctx.opts.req('path');
    const action = ctx.opts.flag('eject') ? 'eject' : ctx.opts.flag('insert') ? 'insert' : 'update';
    const disk = (await devicesOf(ctx, 'disk', !!o.config && !o.live)).find(
      (x) => (x.attr('device') === 'cdrom' || x.attr('device') === 'floppy') && (x.child('target')?.attr('dev') === path || sourceOf(x) === path),
    );
    if (!disk) throw new VirtError('NO_DEVICE', `No disk found whose source path or target is ${path}`);
    const changed = formatXml(mediaChanged(disk, action, ctx.opts.str('source'), ctx.opts.flag('block')));
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(`${changed}\n`);
    await failingAs(`Failed to complete action ${action} on media`, d.updateDevice(changed, o));
    ctx.out.write(`Successfully ${MEDIA_DONE[action]} media.\n`);
  },
};

/** The <interface> element virsh's attach-interface builds from its options. */
export function buildInterfaceXml(o: { type: string; source?: string; target?: string; mac?: string; model?: string; script?: string }): string {
  const e = escapeXml;
  let x = `<interface type='${e(o.type)}'>\n`;
  if (o.mac) x += `  <mac address='${e(o.mac)}'/>\n`;
  if (o.source) {
    const attr = o.type === 'network' ? 'network' : o.type === 'bridge' ? 'bridge' : 'dev';
    x += `  <source ${attr}='${e(o.source)}'/>\n`;
  }
  if (o.target) x += `  <target dev='${e(o.target)}'/>\n`;
  if (o.script) x += `  <script path='${e(o.script)}'/>\n`;
  if (o.model) x += `  <model type='${e(o.model)}'/>\n`;
  return `${x}</interface>\n`;
}

const attachInterface: CommandDef = {
  name: 'attach-interface',
  group: 'Domain Management',
  summary: 'attach network interface',
  options: [
    domainOption(),
    { name: 'type', type: 'string', required: true, positional: true, help: 'network interface type' },
    { name: 'source', type: 'string', required: true, positional: true, help: 'source of network interface' },
    { name: 'target', type: 'string', help: 'target network name' },
    { name: 'mac', type: 'string', help: 'MAC address' },
    { name: 'script', type: 'string', help: 'script used to bridge network interface' },
    { name: 'model', type: 'string', help: 'model type' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than attach the interface' },
    ...IMPACT_OPTIONS,
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const o = ctx.opts;
    const xml = buildInterfaceXml({
      type: o.req('type'),
      source: o.req('source'),
      ...(o.str('target') ? { target: o.str('target')! } : {}),
      ...(o.str('mac') ? { mac: o.str('mac')! } : {}),
      ...(o.str('script') ? { script: o.str('script')! } : {}),
      ...(o.str('model') ? { model: o.str('model')! } : {}),
    });
    if (o.flag('print-xml')) return void ctx.out.write(xml);
    const d = await ctx.domain();
    await failingAs('Failed to attach interface', d.attachDevice(xml, await impact(ctx, d.id >= 0)));
    ctx.out.write('Interface attached successfully\n');
  },
};

const detachInterface: CommandDef = {
  name: 'detach-interface',
  group: 'Domain Management',
  summary: 'detach network interface',
  options: [
    domainOption(),
    { name: 'type', type: 'string', required: true, positional: true, help: 'network interface type' },
    { name: 'mac', type: 'string', help: 'MAC address' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than detach the interface' },
    ...IMPACT_OPTIONS,
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx) {
    const d = await ctx.domain();
    const o = await impact(ctx, d.id >= 0);
    const type = ctx.opts.req('type');
    const mac = ctx.opts.str('mac')?.toLowerCase();
    const nics = (await devicesOf(ctx, 'interface', !!o.config && !o.live)).filter((n) => n.attr('type') === type && (!mac || n.child('mac')?.attr('address')?.toLowerCase() === mac));
    if (nics.length === 0) throw new VirtError('NO_DEVICE', `No interface found whose type is ${type}${mac ? ` and mac address is ${mac}` : ''}`);
    if (nics.length > 1) throw new VirtError('OPERATION_FAILED', `Domain has ${nics.length} interfaces. Please specify which one to detach using --mac`);
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(`${formatXml(nics[0]!)}\n`);
    await failingAs('Failed to detach interface', d.detachDevice(formatXml(nics[0]!), o));
    ctx.out.write('Interface detached successfully\n');
  },
};

const JOB_TYPES: Record<string, string> = { none: 'None', bounded: 'Bounded', unbounded: 'Unbounded', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' };
/** virsh's virshDomainJobOperation names for virtkit's operation keys. */
const JOB_OPERATIONS: Record<string, string> = {
  start: 'Start', save: 'Save', restore: 'Restore', 'migration-in': 'Incoming migration', 'migration-out': 'Outgoing migration',
  snapshot: 'Snapshot', 'snapshot-revert': 'Snapshot revert', dump: 'Dump', backup: 'Backup', 'snapshot-delete': 'Snapshot delete',
};

/** vshPrettyCapacity with domjobinfo's `%-.3lf %s`. */
function capacity3(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(3)} ${units[u]}`;
}

/** virsh's cmdDomjobinfo layout (libvirt 9.0): `%-17s` labels, `%-12llu` numbers. */
export function formatJobInfo(j: DomainJobInfo, completedFlag: boolean): string {
  const lines: string[] = [];
  const label = (k: string) => `${k}:`.padEnd(17);
  const text = (k: string, v: string) => lines.push(`${label(k)} ${v.padEnd(12)}`);
  const num = (k: string, v: number | undefined, unit = '') => v !== undefined && lines.push(`${label(k)} ${String(Math.round(v)).padEnd(12)}${unit ? ` ${unit}` : ''}`);
  const size = (k: string, v: number | undefined, suffix = '') => lines.push(`${label(k)} ${capacity3(v ?? 0)}${suffix}`);
  text('Job type', JOB_TYPES[j.type] ?? j.type);
  const detailed = j.type === 'bounded' || j.type === 'unbounded' || (completedFlag && (j.type === 'completed' || j.type === 'failed'));
  if (detailed) {
    if (j.operation) text('Operation', JOB_OPERATIONS[j.operation] ?? 'Unknown');
    num('Time elapsed', j.timeElapsedMs ?? 0, 'ms');
    if (j.type === 'bounded') num('Time remaining', j.timeRemainingMs ?? 0, 'ms');
    if (j.dataTotal || j.dataRemaining || j.dataProcessed) {
      size('Data processed', j.dataProcessed);
      size('Data remaining', j.dataRemaining);
      size('Data total', j.dataTotal);
    }
    if (j.memTotal || j.memRemaining || j.memProcessed) {
      size('Memory processed', j.memProcessed);
      size('Memory remaining', j.memRemaining);
      size('Memory total', j.memTotal);
      if (j.memBps) size('Memory bandwidth', j.memBps, '/s');
      num('Dirty rate', j.memDirtyRate, 'pages/s');
      num('Page size', j.memPageSize, 'bytes');
      num('Iteration', j.memIteration);
      num('Postcopy requests', j.memPostcopyReqs);
    }
    if (j.diskTotal || j.diskRemaining || j.diskProcessed) {
      size('File processed', j.diskProcessed);
      size('File remaining', j.diskRemaining);
      size('File total', j.diskTotal);
      if (j.diskBps) size('File bandwidth', j.diskBps, '/s');
    }
    num('Constant pages', j.memConstant);
    num('Normal pages', j.memNormal);
    if (j.memNormalBytes !== undefined) size('Normal data', j.memNormalBytes);
    if (j.type === 'completed') num('Total downtime', j.downtimeMs, 'ms');
    else num('Expected downtime', j.expectedDowntimeMs ?? j.downtimeMs, 'ms');
    num('Setup time', j.setupTimeMs, 'ms');
    if (j.errorMessage) lines.push(`${label('Error message')} ${j.errorMessage}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

const domjobinfo: CommandDef = {
  name: 'domjobinfo',
  group: 'Domain Monitoring',
  summary: 'domain job information',
  options: [domainOption(), { name: 'completed', type: 'bool', help: 'return statistics of a recently completed job' }, JSON_OPTION],
  async run(ctx) {
    const completed = ctx.opts.flag('completed');
    const j = await (await ctx.domain()).getJobInfo(completed ? { completed: true } : {});
    if (ctx.json) return void ctx.out.write(formatJson(j));
    ctx.out.write(formatJobInfo(j, completed));
  },
};

const domjobabort: CommandDef = {
  name: 'domjobabort',
  group: 'Domain Monitoring',
  summary: 'abort active domain job',
  options: [domainOption()],
  async run(ctx) {
    await (await ctx.domain()).abortJob();
  },
};

export const deviceCommands: CommandDef[] = [
  domblklist, domiflist, domstats, setmem, setmaxmem, setvcpus, attachDevice, detachDevice, updateDevice,
  attachDisk, detachDisk, attachInterface, detachInterface, changeMedia, consoleCmd, domjobinfo, domjobabort,
];
