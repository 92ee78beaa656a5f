/**
 * virsh's per-device monitoring commands (domblkstat, domifstat, domblkinfo,
 * dommemstat, vcpucount, domifaddr, vncdisplay, domdisplay), laid out as
 * virsh prints them, from the domain's stats, XML and networks.
 */
import { parseXml, VirtError, type DomainHandle, type DomainStats, type XmlElement } from '@virtkit/core';
import { domainOption, JSON_OPTION, type CommandContext, type CommandDef } from '../command.js';
import { formatJson, formatKeyValues, formatTable, prettyCapacity } from '../output.js';

/** The indexes of `group.N.*` entries in stats, with their names. */
function entries(stats: DomainStats, group: 'block' | 'net'): Array<{ i: number; name: string; path?: string }> {
  const n = Number(stats[`${group}.count`] ?? 0);
  return Array.from({ length: n }, (_, i) => ({
    i,
    name: String(stats[`${group}.${i}.name`] ?? ''),
    ...(stats[`${group}.${i}.path`] !== undefined ? { path: String(stats[`${group}.${i}.path`]) } : {}),
  }));
}

const num = (stats: DomainStats, key: string): number | undefined => (stats[key] === undefined ? undefined : Number(stats[key]));

async function runningDomain(ctx: CommandContext): Promise<DomainHandle> {
  const d = await ctx.domain();
  if (d.id < 0) throw new VirtError('OPERATION_INVALID', `domain '${d.name}' is not running`);
  return d;
}

/** virsh's names for the block counters, in its order. */
const BLOCK_FIELDS: Array<[string, string]> = [
  ['rd.reqs', 'rd_req'], ['rd.bytes', 'rd_bytes'], ['wr.reqs', 'wr_req'], ['wr.bytes', 'wr_bytes'],
  ['fl.reqs', 'flush_operations'], ['rd.times', 'rd_total_times'], ['wr.times', 'wr_total_times'], ['fl.times', 'flush_total_times'],
];

/** domblkstat --human's wording of each counter. */
const BLOCK_HUMAN: Record<string, string> = {
  rd_req: 'number of read operations', rd_bytes: 'number of bytes read', wr_req: 'number of write operations', wr_bytes: 'number of bytes written',
  flush_operations: 'number of flush operations', rd_total_times: 'total duration of reads (ns)', wr_total_times: 'total duration of writes (ns)',
  flush_total_times: 'total duration of flushes (ns)',
};

const domblkstat: CommandDef = {
  name: 'domblkstat',
  group: 'Domain Monitoring',
  summary: 'get device block stats for a domain',
  options: [domainOption(), { name: 'device', type: 'string', positional: true, help: 'block device' }, { name: 'human', type: 'bool', help: 'print a more human readable output' }, JSON_OPTION],
  async run(ctx) {
    const d = await runningDomain(ctx);
    const stats = await d.getStats(['block']);
    const dev = ctx.opts.str('device');
    const disks = entries(stats, 'block').filter((b) => !dev || b.name === dev || b.path === dev);
    if (dev && !disks.length) throw new VirtError('INVALID_ARG', `domain '${d.name}' has no disk '${dev}'`);
    // Without a device, the sums over every disk (as libvirt's QEMU driver answers for "").
    const values = BLOCK_FIELDS.flatMap(([key, label]) => {
      const vs = disks.map((b) => num(stats, `block.${b.i}.${key}`)).filter((v): v is number => v !== undefined);
      return vs.length ? [[label, vs.reduce((a, b) => a + b, 0)] as const] : [];
    });
    const name = dev ?? '';
    if (ctx.json) return void ctx.out.write(formatJson({ device: name, ...Object.fromEntries(values) }));
    if (ctx.opts.flag('human')) {
      ctx.out.write(`Device: ${name}\n${values.map(([k, v]) => ` ${`${BLOCK_HUMAN[k]}:`.padEnd(31)} ${v}\n`).join('')}`);
      return;
    }
    ctx.out.write(values.map(([k, v]) => `${name} ${k} ${v}\n`).join(''));
  },
};

const NET_FIELDS: Array<[string, string]> = [
  ['rx.bytes', 'rx_bytes'], ['rx.pkts', 'rx_packets'], ['rx.errs', 'rx_errs'], ['rx.drop', 'rx_drop'],
  ['tx.bytes', 'tx_bytes'], ['tx.pkts', 'tx_packets'], ['tx.errs', 'tx_errs'], ['tx.drop', 'tx_drop'],
];

const domifstat: CommandDef = {
  name: 'domifstat',
  group: 'Domain Monitoring',
  summary: 'get network interface stats for a domain',
  options: [domainOption(), { name: 'interface', type: 'string', required: true, positional: true, help: 'interface device specified by name or MAC Address' }, JSON_OPTION],
  async run(ctx) {
    const d = await runningDomain(ctx);
    const want = ctx.opts.req('interface');
    const stats = await d.getStats(['net']);
    let nic = entries(stats, 'net').find((n) => n.name === want);
    if (!nic) {
      // By MAC: the interface of the live XML with that address, then its host-side name.
      const dev = interfacesOf(await d.getXmlDesc()).find((x) => x.child('mac')?.attr('address')?.toLowerCase() === want.toLowerCase())?.child('target')?.attr('dev');
      nic = dev ? entries(stats, 'net').find((n) => n.name === dev) : undefined;
    }
    if (!nic) throw new VirtError('INVALID_ARG', `domain '${d.name}' has no interface '${want}'`);
    const values = NET_FIELDS.flatMap(([key, label]) => (stats[`net.${nic.i}.${key}`] === undefined ? [] : [[label, Number(stats[`net.${nic.i}.${key}`])] as const]));
    if (ctx.json) return void ctx.out.write(formatJson({ interface: want, ...Object.fromEntries(values) }));
    ctx.out.write(values.map(([k, v]) => `${want} ${k} ${v}\n`).join(''));
  },
};

function interfacesOf(xml: string): XmlElement[] {
  return parseXml(xml, 'domain').child('devices')?.elements('interface') ?? [];
}

const domblkinfo: CommandDef = {
  name: 'domblkinfo',
  group: 'Domain Monitoring',
  summary: 'domain block device size information',
  options: [
    domainOption(),
    { name: 'device', type: 'string', positional: true, help: 'block device' },
    { name: 'human', type: 'bool', help: 'Human readable output' },
    { name: 'all', type: 'bool', help: 'display all block devices info' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const d = await runningDomain(ctx);
    const stats = await d.getStats(['block']);
    const size = (n: number | undefined) => (n === undefined ? '-' : ctx.opts.flag('human') ? prettyCapacity(n, 3) : String(n));
    const info = (i: number) => {
      const capacity = num(stats, `block.${i}.capacity`);
      const allocation = num(stats, `block.${i}.allocation`);
      // Physical: the image's size on the host where the driver reports it, else what it allocated.
      return { capacity, allocation, physical: num(stats, `block.${i}.physical`) ?? allocation };
    };
    const disks = entries(stats, 'block');
    if (ctx.opts.flag('all')) {
      const rows = disks.map((b) => ({ target: b.name, ...info(b.i) }));
      if (ctx.json) return void ctx.out.write(formatJson(rows));
      ctx.out.write(formatTable(['Target', 'Capacity', 'Allocation', 'Physical'], rows.map((r) => [r.target, size(r.capacity), size(r.allocation), size(r.physical)]), !ctx.session.options.quiet));
      return;
    }
    const dev = ctx.opts.str('device');
    if (!dev) throw new VirtError('INVALID_ARG', "command 'domblkinfo' requires <device> option (or --all)");
    const disk = disks.find((b) => b.name === dev || b.path === dev);
    if (!disk) throw new VirtError('INVALID_ARG', `domain '${d.name}' has no disk '${dev}'`);
    const r = info(disk.i);
    if (ctx.json) return void ctx.out.write(formatJson(r));
    ctx.out.write(formatKeyValues([['Capacity', size(r.capacity)], ['Allocation', size(r.allocation)], ['Physical', size(r.physical)]]));
  },
};

/** virsh's dommemstat tags for the balloon stats (`actual` is the balloon's current size). */
const MEM_TAGS: Array<[string, string]> = [
  ['balloon.swap_in', 'swap_in'], ['balloon.swap_out', 'swap_out'], ['balloon.major_fault', 'major_fault'], ['balloon.minor_fault', 'minor_fault'],
  ['balloon.unused', 'unused'], ['balloon.available', 'available'], ['balloon.current', 'actual'], ['balloon.usable', 'usable'],
  ['balloon.last-update', 'last_update'], ['balloon.disk_caches', 'disk_caches'], ['balloon.rss', 'rss'],
];

const dommemstat: CommandDef = {
  name: 'dommemstat',
  group: 'Domain Monitoring',
  summary: 'get memory statistics for a domain',
  options: [domainOption(), JSON_OPTION],
  async run(ctx) {
    const d = await runningDomain(ctx);
    const stats = await d.getStats(['balloon']);
    const values = MEM_TAGS.flatMap(([key, tag]) => (stats[key] === undefined ? [] : [[tag, Number(stats[key])] as const]));
    if (ctx.json) return void ctx.out.write(formatJson(Object.fromEntries(values)));
    ctx.out.write(values.map(([k, v]) => `${k} ${v}\n`).join(''));
  },
};

/** `<vcpu current='N'>M</vcpu>`: the maximum and current counts of a definition. */
function vcpuCounts(xml: string): { maximum: number; current: number } {
  const v = parseXml(xml, 'domain').child('vcpu');
  const maximum = Number(v?.text().trim() || 1);
  return { maximum, current: Number(v?.attr('current') ?? maximum) };
}

const vcpucount: CommandDef = {
  name: 'vcpucount',
  group: 'Domain Management',
  summary: 'domain vcpu counts',
  options: [
    domainOption(),
    { name: 'maximum', type: 'bool', help: 'get maximum count of vcpus' },
    { name: 'active', type: 'bool', help: 'get number of currently active vcpus' },
    { name: 'live', type: 'bool', help: 'get value from running domain' },
    { name: 'config', type: 'bool', help: 'get value to be used on next boot' },
    { name: 'current', type: 'bool', help: 'get value according to current domain state' },
    { name: 'guest', type: 'bool', help: 'retrieve vcpu count from the guest instead of the hypervisor' },
    JSON_OPTION,
  ],
  exclusive: [['maximum', 'active'], ['live', 'config', 'current']],
  async run(ctx) {
    const o = ctx.opts;
    const d = await ctx.domain();
    if (o.flag('guest')) throw new VirtError('ARGUMENT_UNSUPPORTED', `domain '${d.name}': vcpucount --guest needs a guest agent, which virtkit does not support yet`);
    const config = vcpuCounts(await d.getXmlDesc({ inactive: true }));
    const live = d.id >= 0 ? vcpuCounts(await d.getXmlDesc()) : undefined;
    if (o.flag('maximum') || o.flag('active') || o.flag('live') || o.flag('config') || o.flag('current')) {
      const fromLive = o.flag('live') || (!o.flag('config') && d.id >= 0);
      if (fromLive && !live) throw new VirtError('OPERATION_INVALID', `domain '${d.name}' is not running`);
      const counts = fromLive ? live! : config;
      const n = o.flag('maximum') ? counts.maximum : counts.current;
      if (ctx.json) return void ctx.out.write(formatJson({ count: n }));
      return void ctx.out.write(`${n}\n`);
    }
    const rows: Array<[string, string, number]> = [['maximum', 'config', config.maximum]];
    if (live) rows.push(['maximum', 'live', live.maximum]);
    rows.push(['current', 'config', config.current]);
    if (live) rows.push(['current', 'live', live.current]);
    if (ctx.json) return void ctx.out.write(formatJson(rows.map(([which, state, count]) => ({ which, state, count }))));
    ctx.out.write(rows.map(([w, s, n]) => `${w.padEnd(12)} ${s.padEnd(12)} ${String(n).padStart(3)}\n`).join(''));
  },
};

const domifaddr: CommandDef = {
  name: 'domifaddr',
  group: 'Domain Monitoring',
  summary: 'Get network interfaces\' addresses for a running domain',
  options: [
    domainOption(),
    { name: 'interface', type: 'string', positional: true, help: 'network interface name' },
    { name: 'full', type: 'bool', help: 'always display names and MACs of interfaces' },
    { name: 'source', type: 'string', help: "address source: 'lease', 'agent', or 'arp'" },
    JSON_OPTION,
  ],
  async run(ctx) {
    const d = await ctx.domain();
    const source = ctx.opts.str('source') ?? 'lease';
    if (!['lease', 'agent', 'arp'].includes(source)) throw new VirtError('INVALID_ARG', `Unknown data source '${source}'`);
    const want = ctx.opts.str('interface');
    const ifaces = (await d.getInterfaceAddresses({ source: source as 'lease' | 'agent' | 'arp' })).filter((i) => !want || i.name === want);
    if (ctx.json) return void ctx.out.write(formatJson(ifaces));
    const rows: string[][] = [];
    for (const i of ifaces) {
      i.addrs.forEach((a, k) => {
        const first = k === 0 || ctx.opts.flag('full');
        rows.push([first ? i.name : '-', first ? i.hwaddr : '-', a.type, `${a.addr}/${a.prefix}`]);
      });
      if (!i.addrs.length) rows.push([i.name, i.hwaddr, 'N/A', 'N/A']);
    }
    // virsh's fixed layout (not a vshTable): a dashed line of 79 characters.
    let out = ` ${'Name'.padEnd(10)} ${'MAC address'.padEnd(20)} ${'Protocol'.padEnd(12)} ${'Address'}\n${'-'.repeat(79)}\n`;
    for (const [name, mac, proto, addr] of rows) out += ` ${name!.padEnd(10)} ${mac!.padEnd(20)} ${proto!.padEnd(12)} ${addr}\n`;
    ctx.out.write(out);
  },
};

/** The domain's first `<graphics>` of a type, with the port and address it listens on. */
async function graphicsOf(d: DomainHandle, type: string): Promise<{ port: number; listen?: string } | undefined> {
  const g = (parseXml(await d.getXmlDesc(), 'domain').child('devices')?.elements('graphics') ?? []).find((x) => x.attr('type') === type);
  const port = Number(g?.attr('port') ?? -1);
  if (!g || !(port > 0)) return undefined;
  const listen = g.attr('listen') ?? g.elements('listen').find((l) => l.attr('address'))?.attr('address');
  return { port, ...(listen ? { listen } : {}) };
}

const vncdisplay: CommandDef = {
  name: 'vncdisplay',
  group: 'Domain Management',
  summary: 'vnc display',
  options: [domainOption()],
  async run(ctx) {
    const d = await runningDomain(ctx);
    const g = await graphicsOf(d, 'vnc');
    if (!g) throw new VirtError('OPERATION_FAILED', 'Failed to get VNC port. Is this domain using VNC?');
    const any = !g.listen || g.listen === '0.0.0.0' || g.listen === '::';
    ctx.out.write(`${any ? '' : g.listen}:${g.port - 5900}\n`);
  },
};

const domdisplay: CommandDef = {
  name: 'domdisplay',
  group: 'Domain Management',
  summary: 'domain display connection URI',
  options: [domainOption(), { name: 'type', type: 'string', help: 'select particular graphical display (e.g. "vnc", "spice", "rdp")' }],
  async run(ctx) {
    const d = await runningDomain(ctx);
    for (const type of ctx.opts.str('type') ? [ctx.opts.str('type')!] : ['vnc', 'spice', 'rdp']) {
      const g = await graphicsOf(d, type);
      if (!g) continue;
      const host = !g.listen || g.listen === '0.0.0.0' || g.listen === '::' ? 'localhost' : g.listen.includes(':') ? `[${g.listen}]` : g.listen;
      // VNC URIs carry the display number, the others the port.
      ctx.out.write(`${type}://${host}:${type === 'vnc' ? g.port - 5900 : g.port}\n`);
      return;
    }
    throw new VirtError('OPERATION_FAILED', 'No graphical display found');
  },
};

export const domainMonitorCommands: CommandDef[] = [domblkstat, domifstat, domblkinfo, dommemstat, vcpucount, domifaddr, vncdisplay, domdisplay];
