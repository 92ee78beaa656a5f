import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { libvirtErrorText, parseDomainXml, VirtError, type DomainHandle, type StorageVolHandle, type DomainInfo, type DomainState, type ShutdownMode } from '@virtkit/core';
import { domainOption, failingAs, JSON_OPTION, type CommandDef, type CommandContext, type OptionDef } from '../command.js';
import { formatJson, formatKeyValues, formatTable } from '../output.js';
import { autostartCommand } from './autostart.js';
import { attachConsole } from './console.js';
import { devicesOf, sourceOf } from './domain-devices.js';

const STATE_TEXT: Record<DomainState, string> = {
  nostate: 'no state',
  running: 'running',
  blocked: 'idle',
  paused: 'paused',
  shutdown: 'in shutdown',
  shutoff: 'shut off',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

/** virsh's words for a domain state. */
export function stateText(s: DomainState): string {
  return STATE_TEXT[s] ?? s;
}

const REASON_TEXT: Record<string, string> = {
  ioerror: 'I/O error',
  io_error: 'I/O error',
  postcopy: 'post-copy',
  postcopy_failed: 'post-copy failed',
  wakeup: 'woken up',
};

/** virsh's words for a state reason (`from_snapshot` → `from snapshot`). */
export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason.replace(/_/g, ' ');
}

/** Reads an XML file named on the command line, resolving it against the current folder. */
export async function readXmlFile(file: string): Promise<string> {
  try {
    return await readFile(resolve(file), 'utf8');
  } catch (err) {
    throw new VirtError('OPEN_FAILED', `Failed to open file '${file}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message}`, { cause: err });
  }
}

function say(ctx: CommandContext, text: string): void {
  ctx.out.write(`${text}\n`);
}

/** A command that acts on one domain and says what it did, virsh's most common shape. */
function domainAction(
  name: string,
  summary: string,
  act: (d: DomainHandle, ctx: CommandContext) => Promise<void>,
  done: (name: string) => string,
  extra: OptionDef[] = [],
): CommandDef {
  return {
    name,
    group: 'Domain Management',
    summary,
    options: [domainOption(), ...extra],
    async run(ctx) {
      const d = await ctx.domain();
      await failingAs(`Failed to ${name} domain '${d.name}'`, act(d, ctx));
      say(ctx, done(d.name));
    },
  };
}

/** domid / domname / domuuid: one fact of a domain named another way. */
function domainFact(name: string, summary: string, help: string, fact: (d: DomainHandle) => string): CommandDef {
  return {
    name,
    group: 'Domain Monitoring',
    summary,
    options: [domainOption(help)],
    async run(ctx) {
      say(ctx, fact(await ctx.domain()));
    },
  };
}

const list: CommandDef = {
  name: 'list',
  group: 'Domain Monitoring',
  summary: 'list domains',
  description: 'Returns list of domains.',
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive domains' },
    { name: 'all', type: 'bool', help: 'list inactive & active domains' },
    { name: 'transient', type: 'bool', help: 'list transient domains' },
    { name: 'persistent', type: 'bool', help: 'list persistent domains' },
    { name: 'state-running', type: 'bool', help: 'list domains in running state' },
    { name: 'state-paused', type: 'bool', help: 'list domains in paused state' },
    { name: 'state-shutoff', type: 'bool', help: 'list domains in shutoff state' },
    { name: 'state-other', type: 'bool', help: 'list domains in other states' },
    { name: 'autostart', type: 'bool', help: 'list domains with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list domains with autostart disabled' },
    { name: 'with-managed-save', type: 'bool', help: 'list domains with managed save state' },
    { name: 'without-managed-save', type: 'bool', help: 'list domains without managed save' },
    { name: 'uuid', type: 'bool', help: "list uuid's only" },
    { name: 'name', type: 'bool', help: 'list domain names only' },
    { name: 'id', type: 'bool', help: 'list domain IDs only' },
    { name: 'table', type: 'bool', help: 'list table (default)' },
    { name: 'managed-save', type: 'bool', help: 'mark inactive domains with managed save state' },
    { name: 'title', type: 'bool', help: 'show domain title' },
    JSON_OPTION,
  ],
  exclusive: [['table', 'name'], ['table', 'uuid'], ['table', 'id']],
  async run(ctx) {
    const o = ctx.opts;
    const conn = await ctx.conn();
    const all = o.flag('all');
    const inactive = o.flag('inactive');
    const states: DomainState[] = [];
    if (o.flag('state-running')) states.push('running');
    if (o.flag('state-paused')) states.push('paused');
    if (o.flag('state-shutoff')) states.push('shutoff');
    if (o.flag('state-other')) states.push('nostate', 'blocked', 'shutdown', 'crashed', 'pmsuspended');
    let doms = await conn.listAllDomains({
      active: all || !inactive,
      inactive: all || inactive,
      persistent: o.flag('persistent'),
      transient: o.flag('transient'),
      autostart: o.flag('autostart'),
      noAutostart: o.flag('no-autostart'),
      ...(states.length ? { state: states } : {}),
    });
    if (o.flag('with-managed-save') || o.flag('without-managed-save')) {
      doms = doms.filter((d) => (d.lastSummary.managedSave ? o.flag('with-managed-save') : o.flag('without-managed-save')));
    }
    // virsh sorts active domains by id, inactive ones by name after them.
    doms.sort((a, b) => (a.id >= 0 && b.id >= 0 ? a.id - b.id : a.id >= 0 ? -1 : b.id >= 0 ? 1 : a.name.localeCompare(b.name)));
    const stateOf = (d: DomainHandle) =>
      o.flag('managed-save') && d.id < 0 && d.lastSummary.managedSave ? 'saved' : stateText(d.lastSummary.state);

    const short = o.flag('name') || o.flag('uuid') || o.flag('id');
    if (ctx.json) {
      if (short) {
        const rows = doms
          .filter((d) => !o.flag('id') || d.id >= 0)
          .map((d) => ({
            ...(o.flag('id') ? { id: d.id } : {}),
            ...(o.flag('name') ? { name: d.name } : {}),
            ...(o.flag('uuid') ? { uuid: d.uuid } : {}),
          }));
        ctx.out.write(formatJson(rows));
      } else {
        const titles = o.flag('title') ? await Promise.all(doms.map(titleOf)) : [];
        ctx.out.write(formatJson(doms.map((d, i) => ({ id: d.id >= 0 ? d.id : null, name: d.name, state: stateOf(d), ...(o.flag('title') ? { title: titles[i] } : {}) }))));
      }
      return;
    }
    if (short) {
      for (const d of doms) {
        const parts: string[] = [];
        if (o.flag('id')) {
          if (d.id < 0) continue;
          parts.push(String(d.id));
        }
        if (o.flag('uuid')) parts.push(d.uuid);
        if (o.flag('name')) parts.push(d.name);
        ctx.out.write(`${parts.join(o.flag('id') && parts.length > 1 ? '   ' : ' ')}\n`);
      }
      return;
    }
    const titles = o.flag('title') ? await Promise.all(doms.map(titleOf)) : undefined;
    ctx.out.write(
      formatTable(
        titles ? ['Id', 'Name', 'State', 'Title'] : ['Id', 'Name', 'State'],
        doms.map((d, i) => [d.id >= 0 ? String(d.id) : '-', d.name, stateOf(d), ...(titles ? [titles[i]!] : [])]),
        !ctx.session.options.quiet,
      ),
    );
  },
};

/** A domain's `<title>` (virsh list --title), empty when it has none. */
async function titleOf(d: DomainHandle): Promise<string> {
  return parseDomainXml(await d.getXmlDesc()).title ?? '';
}

function infoPairs(d: DomainHandle, info: DomainInfo): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['Id', d.id >= 0 ? String(d.id) : '-'],
    ['Name', d.name],
    ['UUID', d.uuid],
    ['OS Type', info.osType],
    ['State', stateText(info.state)],
    ['CPU(s)', String(info.vcpus)],
  ];
  if (info.cpuTimeNs) pairs.push(['CPU time', `${(info.cpuTimeNs / 1e9).toFixed(1)}s`]);
  pairs.push(
    ['Max memory', info.maxMemKiB ? `${info.maxMemKiB} KiB` : 'no limit'],
    ['Used memory', `${info.memoryKiB} KiB`],
    ['Persistent', info.persistent ? 'yes' : 'no'],
    ['Autostart', info.autostart ? 'enable' : 'disable'],
    ['Managed save', info.managedSave ? 'yes' : 'no'],
  );
  if (info.securityModel) {
    pairs.push(['Security model', info.securityModel]);
    pairs.push(['Security DOI', '']);
    if (info.securityLabel) pairs.push(['Security label', `${info.securityLabel.label} (${info.securityLabel.enforcing ? 'enforcing' : 'permissive'})`]);
  }
  return pairs;
}

const dominfo: CommandDef = {
  name: 'dominfo',
  group: 'Domain Monitoring',
  summary: 'domain information',
  description: 'Returns basic information about the domain.',
  options: [domainOption(), JSON_OPTION],
  async run(ctx) {
    const d = await ctx.domain();
    const info = await d.getInfo();
    await d.refresh();
    if (ctx.json) {
      ctx.out.write(
        formatJson({
          id: d.id >= 0 ? d.id : null,
          name: d.name,
          uuid: d.uuid,
          osType: info.osType,
          state: stateText(info.state),
          cpus: info.vcpus,
          cpuTime: info.cpuTimeNs / 1e9,
          maxMemory: info.maxMemKiB,
          usedMemory: info.memoryKiB,
          persistent: info.persistent,
          autostart: info.autostart,
          managedSave: info.managedSave,
          ...(info.securityModel ? { securityModel: info.securityModel } : {}),
        }),
      );
      return;
    }
    ctx.out.write(formatKeyValues(infoPairs(d, info)));
  },
};

const domstate: CommandDef = {
  name: 'domstate',
  group: 'Domain Monitoring',
  summary: 'domain state',
  description: 'Returns state about a domain.',
  options: [domainOption(), { name: 'reason', type: 'bool', help: 'also print reason for the state' }, JSON_OPTION],
  async run(ctx) {
    const d = await ctx.domain();
    const s = await d.getState();
    if (ctx.json) ctx.out.write(formatJson({ state: stateText(s.state), reason: reasonText(s.reason) }));
    else if (ctx.opts.flag('reason')) say(ctx, `${stateText(s.state)} (${reasonText(s.reason)})`);
    else say(ctx, stateText(s.state));
  },
};

const domid = domainFact('domid', 'convert a domain name or UUID to domain id', 'domain name or uuid', (d) => (d.id >= 0 ? String(d.id) : '-'));

const domname = domainFact('domname', 'convert a domain id or UUID to domain name', 'domain id or uuid', (d) => d.name);

const domuuid = domainFact('domuuid', 'convert a domain name or id to domain UUID', 'domain id or name', (d) => d.uuid);

const define: CommandDef = {
  name: 'define',
  group: 'Domain Management',
  summary: 'define (but don\'t start) a domain from an XML file',
  options: [
    { name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML domain description' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const d = await failingAs(`Failed to define domain from ${file}`, (await ctx.conn()).defineDomainXml(xml, { validate: ctx.opts.flag('validate') }));
    say(ctx, `Domain '${d.name}' defined from ${file}`);
  },
};

const undefine: CommandDef = {
  name: 'undefine',
  group: 'Domain Management',
  summary: 'undefine a domain',
  options: [
    domainOption('domain name or uuid'),
    { name: 'managed-save', type: 'bool', help: 'remove domain managed state file' },
    { name: 'snapshots-metadata', type: 'bool', help: 'remove all domain snapshot metadata, if inactive' },
    { name: 'nvram', type: 'bool', help: 'remove nvram file' },
    { name: 'keep-nvram', type: 'bool', help: 'keep nvram file' },
    { name: 'storage', type: 'string', help: 'remove associated storage volumes (comma separated list of targets or source paths) (see domblklist)' },
    { name: 'remove-all-storage', type: 'bool', help: 'remove all associated storage volumes (use with caution)' },
    { name: 'wipe-storage', type: 'bool', help: 'wipe data on the removed volumes' },
  ],
  exclusive: [['nvram', 'keep-nvram']],
  async run(ctx) {
    const d = await ctx.domain();
    const volumes = await volumesToRemove(ctx, d);
    const undefining = d.undefine({
      managedSave: ctx.opts.flag('managed-save'),
      snapshotsMetadata: ctx.opts.flag('snapshots-metadata'),
      nvram: ctx.opts.flag('nvram'),
      keepNvram: ctx.opts.flag('keep-nvram'),
    });
    await failingAs(`Failed to undefine domain '${d.name}'`, undefining);
    say(ctx, `Domain '${d.name}' has been undefined`);
    // Each volume on its own, as virsh: a failure is reported with its reason and the others still go.
    const reason = (err: unknown) => (err instanceof VirtError ? libvirtErrorText(err) : String(err));
    let ok = true;
    for (const { target, source, vol } of volumes) {
      if (ctx.opts.flag('wipe-storage')) {
        ctx.out.write(`Wiping volume '${target}'(${source}) ... `);
        const wiped = await vol.wipe().then(() => undefined, (err: unknown) => err ?? 'failed');
        if (wiped !== undefined) {
          ctx.out.error('Failed! Volume not removed.');
          ctx.out.error(reason(wiped));
          ok = false;
          continue;
        }
        say(ctx, 'Done.');
      }
      const deleted = await vol.delete().then(() => undefined, (err: unknown) => err ?? 'failed');
      if (deleted === undefined) say(ctx, `Volume '${target}'(${source}) removed.`);
      else {
        ctx.out.error(`Failed to remove storage volume '${target}'(${source})`);
        ctx.out.error(reason(deleted));
        ok = false;
      }
    }
    return ok;
  },
};

/**
 * The volumes `undefine --storage a,b` / `--remove-all-storage` removes,
 * found as virsh finds them: each disk's source (or pool and volume) looked
 * up among the storage pools; a disk outside every pool is reported and left.
 */
async function volumesToRemove(ctx: CommandContext, d: DomainHandle): Promise<Array<{ target: string; source: string; vol: StorageVolHandle }>> {
  const list = ctx.opts.str('storage');
  const all = ctx.opts.flag('remove-all-storage');
  if (list === undefined && !all) {
    if (ctx.opts.flag('wipe-storage')) throw new VirtError('INVALID_ARG', "Option --wipe-storage requires --storage or --remove-all-storage");
    return [];
  }
  if (d.id >= 0) throw new VirtError('OPERATION_INVALID', 'Storage volume deletion is supported only on stopped domains');
  if (list !== undefined && all) throw new VirtError('INVALID_ARG', 'Specified both --storage and --remove-all-storage');
  const wanted = list?.split(',') ?? [];
  const conn = await ctx.conn();
  const out: Array<{ target: string; source: string; vol: StorageVolHandle }> = [];
  for (const disk of await devicesOf(ctx, 'disk', false)) {
    const target = disk.child('target')?.attr('dev');
    const src = disk.child('source');
    const source = sourceOf(disk);
    if (!target || !src || source === '-') continue;
    if (list !== undefined) {
      const i = wanted.findIndex((w) => w === target || w === source);
      if (i < 0) continue;
      wanted.splice(i, 1);
    }
    const pool = src.attr('pool');
    const volume = src.attr('volume');
    const vol = await (pool && volume ? conn.lookupStoragePool(pool).then((p) => p.lookupVolume(volume)) : conn.lookupStorageVolume(source)).catch(() => undefined);
    if (vol) out.push({ target, source, vol });
    else ctx.out.error(`Storage volume '${target}'(${source}) is not managed by virtkit. Remove it manually.`);
  }
  if (wanted.length) throw new VirtError('INVALID_ARG', wanted.map((w) => `Volume '${w}' was not found in domain's definition.`).join('\n'));
  return out;
}

const create: CommandDef = {
  name: 'create',
  group: 'Domain Management',
  summary: 'create a domain from an XML file',
  options: [
    { name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML domain description' },
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', type: 'bool', help: 'automatically destroy the guest when virsh disconnects' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const creating = (await ctx.conn()).createDomainXml(xml, { paused: ctx.opts.flag('paused'), autodestroy: ctx.opts.flag('autodestroy'), validate: ctx.opts.flag('validate') });
    const d = await failingAs(`Failed to create domain from ${file}`, creating);
    say(ctx, `Domain '${d.name}' created from ${file}`);
    if (ctx.opts.flag('console')) await attachConsole(ctx, d);
  },
};

const start: CommandDef = {
  name: 'start',
  group: 'Domain Management',
  summary: 'start a (previously defined) inactive domain',
  options: [
    domainOption('name of the inactive domain'),
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', type: 'bool', help: 'automatically destroy the guest when virsh disconnects' },
    { name: 'bypass-cache', type: 'bool', help: 'avoid file system cache when loading' },
    { name: 'force-boot', type: 'bool', help: 'force fresh boot by discarding any managed save' },
  ],
  async run(ctx) {
    const d = await ctx.domain();
    if (d.id >= 0) throw new VirtError('OPERATION_INVALID', 'Domain is already active');
    const starting = d.start({ paused: ctx.opts.flag('paused'), autodestroy: ctx.opts.flag('autodestroy'), bypassCache: ctx.opts.flag('bypass-cache'), forceBoot: ctx.opts.flag('force-boot') });
    await failingAs(`Failed to start domain '${d.name}'`, starting);
    say(ctx, `Domain '${d.name}' started`);
    if (ctx.opts.flag('console')) await attachConsole(ctx, d);
  },
};

function parseModes(text: string | undefined): ShutdownMode[] | undefined {
  if (!text) return undefined;
  const modes = text.split(',').map((m) => m.trim());
  for (const m of modes) {
    if (!['acpi', 'agent', 'initctl', 'signal', 'paravirt'].includes(m)) throw new VirtError('INVALID_ARG', `Unknown mode ${m} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'`);
  }
  return modes as ShutdownMode[];
}

const shutdown = domainAction(
  'shutdown',
  'gracefully shutdown a domain',
  async (d, ctx) => {
    const timeout = ctx.opts.int('timeout', 0, 86400);
    await d.shutdown({ modes: parseModes(ctx.opts.str('mode')), ...(timeout !== undefined ? { waitMs: timeout * 1000 } : {}) });
  },
  (n) => `Domain '${n}' is being shutdown`,
  [
    { name: 'mode', type: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' },
    { name: 'timeout', type: 'int', help: 'wait up to this many seconds for the guest to power off' },
  ],
);

const destroy = domainAction('destroy', 'destroy (stop) a domain', (d, ctx) => d.destroy({ graceful: ctx.opts.flag('graceful') }), (n) => `Domain '${n}' destroyed`, [
  { name: 'graceful', type: 'bool', help: 'terminate gracefully' },
]);

const reboot = domainAction('reboot', 'reboot a domain', (d, ctx) => d.reboot({ modes: parseModes(ctx.opts.str('mode')) }), (n) => `Domain '${n}' is being rebooted`, [
  { name: 'mode', type: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' },
]);

const reset = domainAction('reset', 'reset a domain', (d) => d.reset(), (n) => `Domain '${n}' was reset`);

const suspend = domainAction('suspend', 'suspend a domain', (d) => d.suspend(), (n) => `Domain '${n}' suspended`);

const resume = domainAction('resume', 'resume a domain', (d) => d.resume(), (n) => `Domain '${n}' resumed`);

const saveOptions = [
  { name: 'bypass-cache', type: 'bool', help: 'avoid file system cache when saving' },
  { name: 'xml', type: 'string', help: 'filename containing updated XML for the target' },
  { name: 'running', type: 'bool', help: 'set domain to be running on restore' },
  { name: 'paused', type: 'bool', help: 'set domain to be paused on restore' },
  { name: 'verbose', type: 'bool', help: 'display the progress of save' },
] as const;

async function saveOpts(ctx: CommandContext) {
  const xmlFile = ctx.opts.str('xml');
  return {
    bypassCache: ctx.opts.flag('bypass-cache'),
    ...(xmlFile ? { xml: await readXmlFile(xmlFile) } : {}),
    ...(ctx.opts.flag('running') ? { startAs: 'running' as const } : ctx.opts.flag('paused') ? { startAs: 'paused' as const } : {}),
  };
}

const save: CommandDef = {
  name: 'save',
  group: 'Domain Management',
  summary: 'save a domain state to a file',
  options: [domainOption(), { name: 'file', type: 'string', required: true, positional: true, help: 'where to save the data' }, ...saveOptions],
  exclusive: [['running', 'paused']],
  async run(ctx) {
    const d = await ctx.domain();
    const file = resolve(ctx.opts.req('file'));
    const opts = await saveOpts(ctx);
    const job = ctx.job('Save');
    try {
      await failingAs(`Failed to save domain '${d.name}' to ${ctx.opts.req('file')}`, d.save(file, opts, job));
    } finally {
      job.done();
    }
    say(ctx, `Domain '${d.name}' saved to ${ctx.opts.req('file')}`);
  },
};

const restore: CommandDef = {
  name: 'restore',
  group: 'Domain Management',
  summary: 'restore a domain from a saved state in a file',
  options: [{ name: 'file', type: 'string', required: true, positional: true, help: 'the state to restore' }, ...saveOptions],
  exclusive: [['running', 'paused']],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const opts = await saveOpts(ctx);
    const conn = await ctx.conn();
    const job = ctx.job('Restore');
    try {
      await failingAs(`Failed to restore domain from ${file}`, conn.restoreDomain(resolve(file), opts, job));
    } finally {
      job.done();
    }
    say(ctx, `Domain restored from ${file}`);
  },
};

const managedsave: CommandDef = {
  name: 'managedsave',
  group: 'Domain Management',
  summary: 'managed save of a domain state',
  options: [domainOption(), ...saveOptions.filter((o) => o.name !== 'xml')],
  exclusive: [['running', 'paused']],
  async run(ctx) {
    const d = await ctx.domain();
    const opts = await saveOpts(ctx);
    const job = ctx.job('Managedsave');
    try {
      await failingAs(`Failed to save domain '${d.name}' state`, d.managedSave(opts, job));
    } finally {
      job.done();
    }
    say(ctx, `Domain '${d.name}' state saved by virtkit`);
  },
};

const managedsaveRemove: CommandDef = {
  name: 'managedsave-remove',
  group: 'Domain Management',
  summary: 'Remove managed save of a domain',
  options: [domainOption()],
  async run(ctx) {
    const d = await ctx.domain();
    if (!(await d.hasManagedSave())) {
      say(ctx, `Domain '${d.name}' has no manage save image; removal skipped`);
      return;
    }
    await d.removeManagedSave();
    say(ctx, `Removed managedsave image for domain '${d.name}'`);
  },
};

const autostart = autostartCommand({
  name: 'autostart',
  group: 'Domain Management',
  summary: 'autostart a domain',
  option: domainOption(),
  lookup: (ctx) => ctx.domain(),
  label: (n) => `Domain '${n}'`,
  failed: (n, on) => `Failed to ${on ? 'mark' : 'unmark'} domain '${n}' as autostarted`,
});

export const domainCommands: CommandDef[] = [
  list, dominfo, domstate, domid, domname, domuuid,
  define, undefine, create, start, shutdown, destroy, reboot, reset, suspend, resume,
  save, restore, managedsave, managedsaveRemove, autostart,
];
