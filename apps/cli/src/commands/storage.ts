import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { escapeXml, parseScaled, VirtError, WIPE_ALGORITHMS, type StoragePoolHandle, type WipeAlgorithm } from '@virtkit/core';
import { failingAs, JSON_OPTION, type CommandContext, type CommandDef, type OptionDef } from '../command.js';
import { formatJson, formatKeyValues, formatTable, prettyCapacity } from '../output.js';
import { readXmlFile } from './domain.js';
import { editXml, printXmlWithXpath, XPATH_OPTIONS } from './xml.js';
import { autostartCommand } from './autostart.js';

const poolOption: OptionDef = { name: 'pool', type: 'string', required: true, positional: true, help: 'pool name or uuid' };
const volOption: OptionDef = { name: 'vol', type: 'string', required: true, positional: true, help: 'vol name, key or path' };
const volPoolOption: OptionDef = { name: 'pool', type: 'string', help: 'pool name or uuid' };
const yn = (b: boolean) => (b ? 'yes' : 'no');

/** A size argument as virsh reads it: a number with an optional unit suffix, bytes by default. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*([0-9]+)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) throw new VirtError('INVALID_ARG', `Malformed size ${text} for ${what}`);
  const bytes = parseScaled(m[1]!, m[2] || undefined, what, 1n);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new VirtError('INVALID_ARG', `size ${text} for ${what} is too large`);
  return Number(bytes);
}

const POOL_STATE: Record<string, string> = { inactive: 'inactive', building: 'building', running: 'running', degraded: 'degraded', inaccessible: 'inaccessible' };

const poolList: CommandDef = {
  name: 'pool-list',
  group: 'Storage Pool',
  summary: 'list pools',
  description: 'Returns list of pools.',
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive pools' },
    { name: 'all', type: 'bool', help: 'list inactive & active pools' },
    { name: 'transient', type: 'bool', help: 'list transient pools' },
    { name: 'persistent', type: 'bool', help: 'list persistent pools' },
    { name: 'autostart', type: 'bool', help: 'list pools with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list pools with autostart disabled' },
    { name: 'type', type: 'string', help: 'only list pool of specified type(s) (if supported)' },
    { name: 'details', type: 'bool', help: 'display extended details for pools' },
    { name: 'uuid', type: 'bool', help: 'list UUID of active pools only' },
    { name: 'name', type: 'bool', help: 'list name of active pools only' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const o = ctx.opts;
    const all = o.flag('all');
    const types = o.str('type')?.split(',').map((t) => t.trim());
    const pools = await (await ctx.conn()).listAllStoragePools({
      active: all || !o.flag('inactive'),
      inactive: all || o.flag('inactive'),
      persistent: o.flag('persistent'),
      transient: o.flag('transient'),
      autostart: o.flag('autostart'),
      noAutostart: o.flag('no-autostart'),
      ...(types ? { types } : {}),
    });
    pools.sort((a, b) => a.name.localeCompare(b.name));
    if (o.flag('name') || o.flag('uuid')) {
      if (ctx.json) ctx.out.write(formatJson(pools.map((p) => ({ ...(o.flag('name') ? { name: p.name } : {}), ...(o.flag('uuid') ? { uuid: p.uuid } : {}) }))));
      else for (const p of pools) ctx.out.write(`${[o.flag('uuid') ? p.uuid : '', o.flag('name') ? p.name : ''].filter(Boolean).join(' ')}\n`);
      return;
    }
    const details = o.flag('details');
    const rows = await Promise.all(
      pools.map(async (p) => {
        const s = p.lastSummary;
        const active = s.state === 'running';
        const info = details && active ? await p.getInfo().catch(() => undefined) : undefined;
        return { p, s, active, info };
      }),
    );
    if (ctx.json) {
      ctx.out.write(
        formatJson(
          rows.map(({ p, s, active, info }) => ({
            name: p.name,
            state: details ? POOL_STATE[s.state] : active ? 'active' : 'inactive',
            autostart: s.autostart,
            ...(details ? { persistent: s.persistent, capacity: info?.capacity ?? null, allocation: info?.allocation ?? null, available: info?.available ?? null } : {}),
          })),
        ),
      );
      return;
    }
    if (!details) {
      ctx.out.write(formatTable(['Name', 'State', 'Autostart'], rows.map(({ p, s, active }) => [p.name, active ? 'active' : 'inactive', yn(s.autostart)]), !ctx.session.options.quiet));
      return;
    }
    ctx.out.write(
      formatTable(
        ['Name', 'State', 'Autostart', 'Persistent', 'Capacity', 'Allocation', 'Available'],
        rows.map(({ p, s, info }) => [
          p.name,
          POOL_STATE[s.state] ?? s.state,
          yn(s.autostart),
          yn(s.persistent),
          info ? prettyCapacity(info.capacity) : '-',
          info ? prettyCapacity(info.allocation) : '-',
          info ? prettyCapacity(info.available) : '-',
        ]),
        !ctx.session.options.quiet,
      ),
    );
  },
};

const poolInfo: CommandDef = {
  name: 'pool-info',
  group: 'Storage Pool',
  summary: 'storage pool information',
  options: [poolOption, { name: 'bytes', type: 'bool', help: 'Reture pool info in bytes' }, JSON_OPTION],
  async run(ctx) {
    const p = await ctx.pool();
    const s = await p.refreshSummary();
    const info = await p.getInfo();
    const active = info.state === 'running' || info.state === 'degraded';
    if (ctx.json) {
      ctx.out.write(
        formatJson({
          name: p.name,
          uuid: p.uuid,
          state: POOL_STATE[info.state] ?? info.state,
          persistent: s.persistent,
          autostart: s.autostart,
          ...(active ? { capacity: info.capacity, allocation: info.allocation, available: info.available } : {}),
        }),
      );
      return;
    }
    const size = (n: number) => (ctx.opts.flag('bytes') ? String(n) : prettyCapacity(n));
    const pairs: Array<[string, string]> = [
      ['Name', p.name],
      ['UUID', p.uuid],
      ['State', POOL_STATE[info.state] ?? info.state],
      ['Persistent', yn(s.persistent)],
      ['Autostart', yn(s.autostart)],
    ];
    if (active) pairs.push(['Capacity', size(info.capacity)], ['Allocation', size(info.allocation)], ['Available', size(info.available)]);
    ctx.out.write(formatKeyValues(pairs));
  },
};

const poolDumpxml: CommandDef = {
  name: 'pool-dumpxml',
  group: 'Storage Pool',
  summary: 'pool information in XML',
  options: [poolOption, { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }, ...XPATH_OPTIONS],
  async run(ctx) {
    printXmlWithXpath(ctx, await (await ctx.pool()).getXmlDesc({ inactive: ctx.opts.flag('inactive') }));
  },
};

const buildOptions: OptionDef[] = [
  { name: 'build', type: 'bool', help: 'build the pool as normal' },
  { name: 'overwrite', type: 'bool', help: 'build the pool without overwriting the existing pool data' },
  { name: 'no-overwrite', type: 'bool', help: 'build the pool without overwriting the existing pool data' },
];

const poolDefine: CommandDef = {
  name: 'pool-define',
  group: 'Storage Pool',
  summary: 'define an inactive persistent storage pool or modify an existing persistent one from an XML file',
  options: [{ name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML pool description' }, { name: 'validate', type: 'bool', help: 'validate the XML against the schema' }],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const p = await failingAs(`Failed to define pool from ${file}`, (await ctx.conn()).defineStoragePoolXml(xml, { validate: ctx.opts.flag('validate') }));
    ctx.out.write(`Pool ${p.name} defined from ${file}\n`);
  },
};

const poolCreate: CommandDef = {
  name: 'pool-create',
  group: 'Storage Pool',
  summary: 'create a pool from an XML file',
  options: [{ name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML pool description' }, ...buildOptions],
  exclusive: [['overwrite', 'no-overwrite']],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const p = await failingAs(`Failed to create pool from ${file}`, (await ctx.conn()).createStoragePoolXml(xml, buildFlags(ctx)));
    ctx.out.write(`Pool ${p.name} created from ${file}\n`);
  },
};

function buildFlags(ctx: CommandContext) {
  return { build: ctx.opts.flag('build'), overwrite: ctx.opts.flag('overwrite'), noOverwrite: ctx.opts.flag('no-overwrite') };
}

const AS_OPTIONS: OptionDef[] = [
  { name: 'name', type: 'string', required: true, positional: true, help: 'name of the pool' },
  { name: 'type', type: 'string', required: true, positional: true, help: 'type of the pool' },
  { name: 'print-xml', type: 'bool', help: 'print XML document, but don\'t define/create' },
  { name: 'source-host', type: 'string', positional: true, help: 'source-host for underlying storage' },
  { name: 'source-path', type: 'string', positional: true, help: 'source path for underlying storage' },
  { name: 'source-dev', type: 'string', positional: true, help: 'source device for underlying storage' },
  { name: 'source-name', type: 'string', positional: true, help: 'source name for underlying storage' },
  { name: 'target', type: 'string', positional: true, help: 'target for underlying storage' },
  { name: 'source-format', type: 'string', help: 'format for underlying storage' },
  { name: 'auth-type', type: 'string', help: 'auth type to be used for underlying storage' },
  { name: 'auth-username', type: 'string', help: 'auth username to be used for underlying storage' },
  { name: 'secret-usage', type: 'string', help: 'auth secret usage to be used for underlying storage' },
  { name: 'secret-uuid', type: 'string', help: 'auth secret UUID to be used for underlying storage' },
  { name: 'adapter-name', type: 'string', help: 'adapter name to be used for underlying storage' },
  { name: 'source-initiator', type: 'string', help: 'initiator iqn for underlying storage' },
  { name: 'source-protocol-ver', type: 'string', help: 'nfsvers value for NFS pool mount option' },
];

/** The pool XML virsh's pool-define-as / pool-create-as build from their options. */
export function buildPoolXmlFromOptions(ctx: CommandContext): string {
  const o = ctx.opts;
  const e = (s: string) => escapeXml(s);
  let x = `<pool type='${e(o.req('type'))}'>\n  <name>${e(o.req('name'))}</name>\n`;
  const src: string[] = [];
  const host = o.str('source-host');
  if (host) {
    const m = /^(.*?)(?::([0-9]+))?$/.exec(host)!;
    src.push(`    <host name='${e(m[1]!)}'${m[2] ? ` port='${m[2]}'` : ''}/>`);
  }
  if (o.str('source-path')) src.push(`    <dir path='${e(o.str('source-path')!)}'/>`);
  if (o.str('source-dev')) src.push(`    <device path='${e(o.str('source-dev')!)}'/>`);
  if (o.str('adapter-name')) src.push(`    <adapter name='${e(o.str('adapter-name')!)}'/>`);
  if (o.str('source-initiator')) src.push(`    <initiator>\n      <iqn name='${e(o.str('source-initiator')!)}'/>\n    </initiator>`);
  if (o.str('source-format')) src.push(`    <format type='${e(o.str('source-format')!)}'/>`);
  if (o.str('source-name')) src.push(`    <name>${e(o.str('source-name')!)}</name>`);
  if (o.str('auth-type') && o.str('auth-username') && (o.str('secret-usage') || o.str('secret-uuid'))) {
    const secret = o.str('secret-usage') ? `usage='${e(o.str('secret-usage')!)}'` : `uuid='${e(o.str('secret-uuid')!)}'`;
    src.push(`    <auth type='${e(o.str('auth-type')!)}' username='${e(o.str('auth-username')!)}'>\n      <secret ${secret}/>\n    </auth>`);
  }
  if (o.str('source-protocol-ver')) src.push(`    <protocol ver='${e(o.str('source-protocol-ver')!)}'/>`);
  if (src.length) x += `  <source>\n${src.join('\n')}\n  </source>\n`;
  if (o.str('target')) x += `  <target>\n    <path>${e(o.str('target')!)}</path>\n  </target>\n`;
  return `${x}</pool>\n`;
}

const poolDefineAs: CommandDef = {
  name: 'pool-define-as',
  group: 'Storage Pool',
  summary: 'define a pool from a set of args',
  options: AS_OPTIONS,
  async run(ctx) {
    const xml = buildPoolXmlFromOptions(ctx);
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(xml);
    const p = await failingAs(`Failed to define pool ${ctx.opts.req('name')}`, (await ctx.conn()).defineStoragePoolXml(xml));
    ctx.out.write(`Pool ${p.name} defined\n`);
  },
};

const poolCreateAs: CommandDef = {
  name: 'pool-create-as',
  group: 'Storage Pool',
  summary: 'create a pool from a set of args',
  options: [...AS_OPTIONS, ...buildOptions],
  exclusive: [['overwrite', 'no-overwrite']],
  async run(ctx) {
    const xml = buildPoolXmlFromOptions(ctx);
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(xml);
    const p = await failingAs(`Failed to create pool ${ctx.opts.req('name')}`, (await ctx.conn()).createStoragePoolXml(xml, buildFlags(ctx)));
    ctx.out.write(`Pool ${p.name} created\n`);
  },
};

function poolAction(name: string, summary: string, verb: string, act: (p: StoragePoolHandle, ctx: CommandContext) => Promise<void>, extra: OptionDef[] = []): CommandDef {
  return {
    name,
    group: 'Storage Pool',
    summary,
    options: [poolOption, ...extra],
    exclusive: [['overwrite', 'no-overwrite']],
    async run(ctx) {
      const p = await ctx.pool();
      await failingAs(`Failed to ${name.slice('pool-'.length)} pool ${p.name}`, act(p, ctx));
      ctx.out.write(`Pool ${p.name} ${verb}\n`);
    },
  };
}

const poolBuild = poolAction('pool-build', 'build a pool', 'built', async (p, ctx) => {
  const job = ctx.job('Build');
  try {
    await p.build({ overwrite: ctx.opts.flag('overwrite'), noOverwrite: ctx.opts.flag('no-overwrite') }, job);
  } finally {
    job.done();
  }
}, buildOptions.slice(1));
const poolStart = poolAction('pool-start', 'start a (previously defined) inactive pool', 'started', (p, ctx) => p.start(buildFlags(ctx)), buildOptions);
const poolDestroy = poolAction('pool-destroy', 'destroy (stop) a pool', 'destroyed', (p) => p.destroy());
const poolDelete = poolAction('pool-delete', 'delete a pool', 'deleted', (p) => p.delete());
const poolUndefine = poolAction('pool-undefine', 'undefine an inactive pool', 'has been undefined', (p) => p.undefine());
const poolRefresh = poolAction('pool-refresh', 'refresh a pool', 'refreshed', (p) => p.refresh());

const poolAutostart = autostartCommand({
  name: 'pool-autostart',
  group: 'Storage Pool',
  summary: 'autostart a pool',
  option: poolOption,
  lookup: (ctx) => ctx.pool(),
  label: (n) => `Pool ${n}`,
  failed: (n, on) => `failed to ${on ? 'mark' : 'unmark'} pool ${n} as autostarted`,
});

const poolEdit: CommandDef = {
  name: 'pool-edit',
  group: 'Storage Pool',
  summary: 'edit XML configuration for a storage pool',
  options: [poolOption],
  async run(ctx) {
    const p = await ctx.pool();
    const conn = await ctx.conn();
    return editXml(ctx, 'Pool', await p.getXmlDesc({ inactive: true }), async (xml) => (await conn.defineStoragePoolXml(xml)).name);
  },
};

const poolUuid: CommandDef = {
  name: 'pool-uuid',
  group: 'Storage Pool',
  summary: 'convert a pool name to pool UUID',
  options: [poolOption],
  async run(ctx) {
    ctx.out.write(`${(await ctx.pool()).uuid}\n`);
  },
};

const poolName: CommandDef = {
  name: 'pool-name',
  group: 'Storage Pool',
  summary: 'convert a pool UUID to pool name',
  options: [poolOption],
  async run(ctx) {
    ctx.out.write(`${(await ctx.pool()).name}\n`);
  },
};

const findSources: CommandDef = {
  name: 'find-storage-pool-sources',
  group: 'Storage Pool',
  summary: 'discover potential storage pool sources',
  options: [
    { name: 'type', type: 'string', required: true, positional: true, help: 'type of storage pool sources to find' },
    { name: 'srcSpec', type: 'string', positional: true, help: 'optional file of source xml to query for pools' },
  ],
  async run(ctx) {
    const spec = ctx.opts.str('srcSpec');
    ctx.out.write(await (await ctx.conn()).findStoragePoolSources(ctx.opts.req('type'), spec ? await readXmlFile(spec) : undefined));
  },
};

const findSourcesAs: CommandDef = {
  name: 'find-storage-pool-sources-as',
  group: 'Storage Pool',
  summary: 'find potential storage pool sources',
  options: [
    { name: 'type', type: 'string', required: true, positional: true, help: 'type of storage pool sources to find' },
    { name: 'host', type: 'string', positional: true, help: 'optional host to query' },
    { name: 'port', type: 'string', positional: true, help: 'optional port to query' },
    { name: 'initiator', type: 'string', positional: true, help: 'optional initiator IQN to use for query' },
  ],
  async run(ctx) {
    const host = ctx.opts.str('host');
    let spec: string | undefined;
    if (host) {
      const port = ctx.opts.str('port');
      const init = ctx.opts.str('initiator');
      spec = `<source>\n  <host name='${escapeXml(host)}'${port ? ` port='${escapeXml(port)}'` : ''}/>\n${init ? `  <initiator>\n    <iqn name='${escapeXml(init)}'/>\n  </initiator>\n` : ''}</source>\n`;
    }
    ctx.out.write(await (await ctx.conn()).findStoragePoolSources(ctx.opts.req('type'), spec));
  },
};

// ------------------------------------------------------------ volumes

const volList: CommandDef = {
  name: 'vol-list',
  group: 'Storage Volume',
  summary: 'list vols',
  options: [poolOption, { name: 'details', type: 'bool', help: 'display extended details for volumes' }, JSON_OPTION],
  async run(ctx) {
    const p = await ctx.pool();
    const vols = await p.listAllVolumes();
    vols.sort((a, b) => a.name.localeCompare(b.name));
    const details = ctx.opts.flag('details');
    const infos = details ? await Promise.all(vols.map((v) => v.getInfo().catch(() => undefined))) : [];
    if (ctx.json) {
      ctx.out.write(
        formatJson(
          vols.map((v, i) => ({
            name: v.name,
            path: v.path,
            ...(details ? { type: infos[i]?.type ?? null, capacity: infos[i]?.capacity ?? null, allocation: infos[i]?.allocation ?? null } : {}),
          })),
        ),
      );
      return;
    }
    if (!details) {
      ctx.out.write(formatTable(['Name', 'Path'], vols.map((v) => [v.name, v.path]), !ctx.session.options.quiet));
      return;
    }
    ctx.out.write(
      formatTable(
        ['Name', 'Path', 'Type', 'Capacity', 'Allocation'],
        vols.map((v, i) => [v.name, v.path, infos[i]?.type ?? 'unknown', infos[i] ? prettyCapacity(infos[i]!.capacity) : '-', infos[i] ? prettyCapacity(infos[i]!.allocation) : '-']),
        !ctx.session.options.quiet,
      ),
    );
  },
};

const volInfo: CommandDef = {
  name: 'vol-info',
  group: 'Storage Volume',
  summary: 'storage vol information',
  options: [
    volOption,
    volPoolOption,
    { name: 'bytes', type: 'bool', help: 'sizes are represented in bytes rather than pretty units' },
    { name: 'physical', type: 'bool', help: 'return the physical size of the volume in allocation field' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const v = await ctx.volume();
    const info = await v.getInfo();
    if (ctx.json) {
      ctx.out.write(formatJson({ name: v.name, type: info.type, capacity: info.capacity, allocation: info.allocation, ...(info.physical !== undefined ? { physical: info.physical } : {}) }));
      return;
    }
    const size = (n: number) => (ctx.opts.flag('bytes') ? `${n} bytes` : prettyCapacity(n));
    // --physical: the size of the volume's file or device on the host (a backend that does not know it reports its allocation).
    const last: [string, string] = ctx.opts.flag('physical') ? ['Physical', size(info.physical ?? info.allocation)] : ['Allocation', size(info.allocation)];
    ctx.out.write(formatKeyValues([['Name', v.name], ['Type', info.type], ['Capacity', size(info.capacity)], last]));
  },
};

const volDumpxml: CommandDef = {
  name: 'vol-dumpxml',
  group: 'Storage Volume',
  summary: 'vol information in XML',
  options: [volOption, volPoolOption, ...XPATH_OPTIONS],
  async run(ctx) {
    printXmlWithXpath(ctx, await (await ctx.volume()).getXmlDesc());
  },
};

const volPath: CommandDef = {
  name: 'vol-path',
  group: 'Storage Volume',
  summary: 'returns the volume path for a given volume name or key',
  options: [volOption, volPoolOption],
  async run(ctx) {
    ctx.out.write(`${(await ctx.volume()).path}\n`);
  },
};

const volKey: CommandDef = {
  name: 'vol-key',
  group: 'Storage Volume',
  summary: 'returns the volume key for a given volume name or path',
  options: [volOption, volPoolOption],
  async run(ctx) {
    ctx.out.write(`${(await ctx.volume()).key}\n`);
  },
};

const volName: CommandDef = {
  name: 'vol-name',
  group: 'Storage Volume',
  summary: 'returns the volume name for a given volume key or path',
  options: [{ name: 'vol', type: 'string', required: true, positional: true, help: 'volume key or path' }],
  async run(ctx) {
    ctx.out.write(`${(await ctx.volume()).name}\n`);
  },
};

const volPool: CommandDef = {
  name: 'vol-pool',
  group: 'Storage Volume',
  summary: 'returns the storage pool for a given volume key or path',
  options: [{ name: 'vol', type: 'string', required: true, positional: true, help: 'volume key or path' }, { name: 'uuid', type: 'bool', help: 'return the pool uuid rather than pool name' }],
  async run(ctx) {
    const v = await ctx.volume();
    if (ctx.opts.flag('uuid')) ctx.out.write(`${(await (await ctx.conn()).lookupStoragePool(v.pool)).uuid}\n`);
    else ctx.out.write(`${v.pool}\n`);
  },
};

/** The volume XML virsh's vol-create-as builds. */
export function buildVolumeXml(o: { name: string; capacity: number; allocation?: number; format?: string; backingPath?: string; backingFormat?: string }): string {
  const e = escapeXml;
  let x = `<volume>\n  <name>${e(o.name)}</name>\n  <capacity>${o.capacity}</capacity>\n`;
  if (o.allocation !== undefined) x += `  <allocation>${o.allocation}</allocation>\n`;
  if (o.format) x += `  <target>\n    <format type='${e(o.format)}'/>\n  </target>\n`;
  if (o.backingPath) {
    x += `  <backingStore>\n    <path>${e(o.backingPath)}</path>\n`;
    if (o.backingFormat) x += `    <format type='${e(o.backingFormat)}'/>\n`;
    x += `  </backingStore>\n`;
  }
  return `${x}</volume>\n`;
}

const volCreateAs: CommandDef = {
  name: 'vol-create-as',
  group: 'Storage Volume',
  summary: 'create a volume from a set of args',
  options: [
    poolOption,
    { name: 'name', type: 'string', required: true, positional: true, help: 'name of the volume' },
    { name: 'capacity', type: 'string', required: true, positional: true, help: 'size of the vol, as scaled integer (default bytes)' },
    { name: 'allocation', type: 'string', help: 'initial allocation size, as scaled integer (default bytes)' },
    { name: 'format', type: 'string', help: 'file format type raw,bochs,qcow,qcow2,qed,vmdk' },
    { name: 'backing-vol', type: 'string', help: 'the backing volume if taking a snapshot' },
    { name: 'backing-vol-format', type: 'string', help: 'format of backing volume if taking a snapshot' },
    { name: 'prealloc-metadata', type: 'bool', help: 'preallocate metadata (for qcow2 instead of full allocation)' },
    { name: 'print-xml', type: 'bool', help: 'print XML document, but don\'t define/create' },
  ],
  async run(ctx) {
    const o = ctx.opts;
    const p = await ctx.pool();
    let backingPath: string | undefined;
    const backing = o.str('backing-vol');
    if (backing) {
      // virsh looks the backing volume up in the same pool first, then by key or path.
      const bv = await p.lookupVolume(backing).catch(async () => (await ctx.conn()).lookupStorageVolume(backing));
      backingPath = bv.path;
    }
    const alloc = o.str('allocation');
    const xml = buildVolumeXml({
      name: o.req('name'),
      capacity: parseSize(o.req('capacity'), 'capacity'),
      ...(alloc !== undefined ? { allocation: parseSize(alloc, 'allocation') } : {}),
      ...(o.str('format') ? { format: o.str('format')! } : {}),
      ...(backingPath ? { backingPath } : {}),
      ...(o.str('backing-vol-format') ? { backingFormat: o.str('backing-vol-format')! } : {}),
    });
    if (o.flag('print-xml')) return void ctx.out.write(xml);
    const job = ctx.job('Allocating');
    try {
      const v = await failingAs(`Failed to create vol ${o.req('name')}`, p.createVolumeXml(xml, { preallocMetadata: o.flag('prealloc-metadata') }, job));
      ctx.out.write(`Vol ${v.name} created\n`);
    } finally {
      job.done();
    }
  },
};

const volCreate: CommandDef = {
  name: 'vol-create',
  group: 'Storage Volume',
  summary: 'create a vol from an XML file',
  options: [
    poolOption,
    { name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML vol description' },
    { name: 'prealloc-metadata', type: 'bool', help: 'preallocate metadata (for qcow2 instead of full allocation)' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(ctx) {
    const p = await ctx.pool();
    const file = ctx.opts.req('file');
    const job = ctx.job('Allocating');
    try {
      const xml = await readXmlFile(file);
      const v = await failingAs(`Failed to create vol from ${file}`, p.createVolumeXml(xml, { preallocMetadata: ctx.opts.flag('prealloc-metadata'), validate: ctx.opts.flag('validate') }, job));
      ctx.out.write(`Vol ${v.name} created from ${file}\n`);
    } finally {
      job.done();
    }
  },
};

const volCreateFrom: CommandDef = {
  name: 'vol-create-from',
  group: 'Storage Volume',
  summary: 'create a vol, using another volume as input',
  options: [
    poolOption,
    { name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML vol description' },
    { name: 'vol', type: 'string', required: true, positional: true, help: 'input vol name or key' },
    { name: 'inputpool', type: 'string', help: 'pool name or uuid of the input volume\'s pool' },
    { name: 'prealloc-metadata', type: 'bool', help: 'preallocate metadata (for qcow2 instead of full allocation)' },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(ctx) {
    const p = await ctx.pool();
    const src = await ctx.volume('vol', 'inputpool');
    const file = ctx.opts.req('file');
    const job = ctx.job('Copying');
    try {
      const xml = await readXmlFile(file);
      const creating = p.createVolumeXmlFrom(xml, src, { preallocMetadata: ctx.opts.flag('prealloc-metadata'), reflink: ctx.opts.flag('reflink'), validate: ctx.opts.flag('validate') }, job);
      const v = await failingAs(`Failed to create vol from ${file}`, creating);
      ctx.out.write(`Vol ${v.name} created from input vol ${src.name}\n`);
    } finally {
      job.done();
    }
  },
};

const volClone: CommandDef = {
  name: 'vol-clone',
  group: 'Storage Volume',
  summary: 'clone a volume.',
  options: [
    volOption,
    { name: 'newname', type: 'string', required: true, positional: true, help: 'clone name' },
    volPoolOption,
    { name: 'prealloc-metadata', type: 'bool', help: 'preallocate metadata (for qcow2 instead of full allocation)' },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than clone the volume' },
  ],
  async run(ctx) {
    const src = await ctx.volume();
    const conn = await ctx.conn();
    const pool = await conn.lookupStoragePool(src.pool);
    const { parseXml, formatXml, XmlElement } = await import('@virtkit/core');
    const doc = parseXml(await src.getXmlDesc(), `volume '${src.name}'`);
    // As virsh: same XML with the new name, no key, no path.
    doc.children = doc.children.filter((c) => typeof c === 'string' || c.name !== 'key');
    const name = doc.child('name');
    if (name) name.children = [ctx.opts.req('newname')];
    else doc.children.unshift(new XmlElement('name', {}, [ctx.opts.req('newname')]));
    const target = doc.child('target');
    if (target) target.children = target.children.filter((c) => typeof c === 'string' || c.name !== 'path');
    const xml = formatXml(doc);
    if (ctx.opts.flag('print-xml')) return void ctx.out.write(xml);
    const job = ctx.job('Cloning');
    try {
      const cloning = pool.createVolumeXmlFrom(xml, src, { preallocMetadata: ctx.opts.flag('prealloc-metadata'), reflink: ctx.opts.flag('reflink') }, job);
      const v = await failingAs(`Failed to clone vol from ${src.name}`, cloning);
      ctx.out.write(`Vol ${v.name} cloned from ${src.name}\n`);
    } finally {
      job.done();
    }
  },
};

const volDelete: CommandDef = {
  name: 'vol-delete',
  group: 'Storage Volume',
  summary: 'delete a vol',
  options: [volOption, volPoolOption, { name: 'delete-snapshots', type: 'bool', help: 'delete snapshots associated with volume (must be supported by storage driver)' }],
  async run(ctx) {
    const v = await ctx.volume();
    await failingAs(`Failed to delete vol ${v.name}`, v.delete({ deleteSnapshots: ctx.opts.flag('delete-snapshots') }));
    ctx.out.write(`Vol ${v.name} deleted\n`);
  },
};

const volResize: CommandDef = {
  name: 'vol-resize',
  group: 'Storage Volume',
  summary: 'resize a vol',
  options: [
    volOption,
    { name: 'capacity', type: 'string', required: true, positional: true, help: 'new capacity for the vol, as scaled integer (default bytes)' },
    volPoolOption,
    { name: 'allocate', type: 'bool', help: 'allocate the new capacity, rather than leaving it sparse' },
    { name: 'delta', type: 'bool', help: 'use capacity as a delta to current size, rather than the new size' },
    { name: 'shrink', type: 'bool', help: 'allow the resize to shrink the volume' },
  ],
  async run(ctx) {
    const v = await ctx.volume();
    let text = ctx.opts.req('capacity');
    const negative = text.startsWith('-');
    if (negative) {
      if (!ctx.opts.flag('shrink')) throw new VirtError('INVALID_ARG', 'negative size requires --shrink');
      text = text.slice(1);
    }
    const size = parseSize(text, 'capacity');
    const delta = ctx.opts.flag('delta') || negative;
    const resizing = v.resize(negative ? -size : size, { allocate: ctx.opts.flag('allocate'), delta, shrink: ctx.opts.flag('shrink') });
    await failingAs(`Failed to change size of volume '${v.name}' ${delta ? 'by' : 'to'} ${ctx.opts.req('capacity')}`, resizing);
    ctx.out.write(delta ? `Size of volume '${v.name}' successfully changed by ${ctx.opts.req('capacity')}\n` : `Size of volume '${v.name}' successfully changed to ${ctx.opts.req('capacity')}\n`);
  },
};

const volWipe: CommandDef = {
  name: 'vol-wipe',
  group: 'Storage Volume',
  summary: 'wipe a vol',
  options: [volOption, volPoolOption, { name: 'algorithm', type: 'string', help: 'perform selected wiping algorithm' }],
  async run(ctx) {
    const v = await ctx.volume();
    const alg = (ctx.opts.str('algorithm') ?? 'zero') as WipeAlgorithm;
    if (!(WIPE_ALGORITHMS as readonly string[]).includes(alg)) throw new VirtError('INVALID_ARG', `Unsupported algorithm '${alg}'`);
    const job = ctx.job('Wiping');
    try {
      await failingAs(`Failed to wipe vol ${v.name}`, v.wipe(alg, job));
    } finally {
      job.done();
    }
    ctx.out.write(`Vol ${v.name} wiped\n`);
  },
};

const transferOptions: OptionDef[] = [
  volPoolOption,
  { name: 'offset', type: 'string', help: 'volume offset to upload to' },
  { name: 'length', type: 'string', help: 'amount of data to upload' },
  { name: 'sparse', type: 'bool', help: 'preserve sparseness of volume' },
];

const volUpload: CommandDef = {
  name: 'vol-upload',
  group: 'Storage Volume',
  summary: 'upload file contents to a volume',
  options: [volOption, { name: 'file', type: 'string', required: true, positional: true, help: 'file' }, ...transferOptions],
  async run(ctx) {
    const v = await ctx.volume();
    const file = ctx.opts.req('file');
    const offset = ctx.opts.str('offset') ? parseSize(ctx.opts.str('offset')!, 'offset') : 0;
    const length = ctx.opts.str('length') ? parseSize(ctx.opts.str('length')!, 'length') : 0;
    const size = await stat(file).then((s) => s.size, (err: NodeJS.ErrnoException) => {
      throw new VirtError('OPEN_FAILED', `cannot read ${file}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
    });
    const job = ctx.job('Uploading');
    try {
      await v.upload(createReadStream(file, length ? { start: 0, end: Math.min(size, length) - 1 } : {}), { offset, length, sparse: ctx.opts.flag('sparse') }, job);
    } finally {
      job.done();
    }
  },
};

const SPARSE_BLOCK = 64 * 1024;

function allZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Writes a download into a file, leaving blocks of zeros as holes (`vol-download --sparse`). */
export async function writeSparseFile(stream: Readable, file: string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.truncate(0);
    let pos = 0;
    let carry = Buffer.alloc(0);
    const put = async (block: Buffer) => {
      if (!allZero(block)) await fh.write(block, 0, block.length, pos);
      pos += block.length;
    };
    for await (const chunk of stream) {
      let buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      const whole = buf.length - (buf.length % SPARSE_BLOCK);
      for (let off = 0; off < whole; off += SPARSE_BLOCK) await put(buf.subarray(off, off + SPARSE_BLOCK));
      carry = Buffer.from(buf.subarray(whole));
      buf = carry;
    }
    if (carry.length) await put(carry);
    // Trailing holes still count towards the size.
    await fh.truncate(pos);
  } finally {
    await fh.close();
  }
}

const volDownload: CommandDef = {
  name: 'vol-download',
  group: 'Storage Volume',
  summary: 'download volume contents to a file',
  options: [volOption, { name: 'file', type: 'string', required: true, positional: true, help: 'file' }, ...transferOptions],
  async run(ctx) {
    const v = await ctx.volume();
    const offset = ctx.opts.str('offset') ? parseSize(ctx.opts.str('offset')!, 'offset') : 0;
    const length = ctx.opts.str('length') ? parseSize(ctx.opts.str('length')!, 'length') : 0;
    const job = ctx.job('Downloading');
    try {
      const stream = await v.download({ offset, length, sparse: ctx.opts.flag('sparse') }, job);
      if (ctx.opts.flag('sparse')) await writeSparseFile(stream, ctx.opts.req('file'));
      else await pipeline(stream, createWriteStream(ctx.opts.req('file')));
    } finally {
      job.done();
    }
  },
};

export const storageCommands: CommandDef[] = [
  poolList, poolInfo, poolDumpxml, poolDefine, poolCreate, poolDefineAs, poolCreateAs, poolBuild, poolStart,
  poolDestroy, poolDelete, poolUndefine, poolRefresh, poolAutostart, poolEdit, poolUuid, poolName, findSources, findSourcesAs,
  volList, volInfo, volDumpxml, volPath, volKey, volName, volPool, volCreateAs, volCreate, volCreateFrom, volClone,
  volDelete, volResize, volWipe, volUpload, volDownload,
];
