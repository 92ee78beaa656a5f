import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeXml, evaluateXPath, formatXml, parseXml, VirtError, XmlElement } from '@virtkit/core';
import { domainOption, type CommandContext, type CommandDef, type OptionDef } from '../command.js';

export const XPATH_OPTIONS: OptionDef[] = [
  { name: 'xpath', type: 'string', help: 'xpath expression to filter the XML document' },
  { name: 'wrap', type: 'bool', help: 'wrap xpath results in an common root element' },
];

/** Prints an XML document, or what `--xpath` selects from it as virsh does (libxml2's node dump). */
export function printXmlWithXpath(ctx: CommandContext, xml: string): void {
  const expr = ctx.opts.str('xpath');
  if (!expr) {
    ctx.out.write(xml.endsWith('\n') ? xml : `${xml}\n`);
    return;
  }
  const result = evaluateXPath(parseXml(xml, 'XML document'), expr);
  if (!Array.isArray(result)) {
    ctx.out.write(`${typeof result === 'number' && Number.isInteger(result) ? result : String(result)}\n`);
    return;
  }
  if (ctx.opts.flag('wrap')) {
    const wrapped = new XmlElement(
      'nodes',
      {},
      result.map((n) => (n.kind === 'element' || n.kind === 'root' ? n.el : n.value)),
    );
    ctx.out.write(formatXml(wrapped, '"'));
    return;
  }
  for (const n of result) {
    if (n.kind === 'element' || n.kind === 'root') ctx.out.write(formatXml(n.el, '"'));
    else if (n.kind === 'attribute') ctx.out.write(` ${n.name}="${escapeXml(n.value)}"\n`);
    else ctx.out.write(`${escapeXml(n.value)}\n`);
  }
}

const dumpxml: CommandDef = {
  name: 'dumpxml',
  group: 'Domain Management',
  summary: 'domain information in XML',
  description: 'Output the domain information as an XML dump to stdout.',
  options: [
    domainOption(),
    { name: 'inactive', type: 'bool', help: 'show inactive defined XML' },
    { name: 'security-info', type: 'bool', help: 'include security sensitive information in XML dump' },
    { name: 'update-cpu', type: 'bool', help: 'update guest CPU according to host CPU' },
    { name: 'migratable', type: 'bool', help: 'provide XML suitable for migrations' },
    ...XPATH_OPTIONS,
  ],
  async run(ctx) {
    const d = await ctx.domain();
    const xml = await d.getXmlDesc({
      inactive: ctx.opts.flag('inactive'),
      secure: ctx.opts.flag('security-info'),
      updateCpu: ctx.opts.flag('update-cpu'),
      migratable: ctx.opts.flag('migratable'),
    });
    printXmlWithXpath(ctx, xml);
  },
};

/**
 * virsh's edit loop without the interactive retry: the XML goes to
 * $VISUAL/$EDITOR in a temporary file; unchanged means nothing to do;
 * changed XML is defined, and when that fails the old definition stays.
 */
export async function editXml(
  ctx: CommandContext,
  what: string,
  current: string,
  define: (xml: string) => Promise<string>,
): Promise<boolean> {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-edit-'));
  const file = join(dir, `${what.replace(/[^A-Za-z0-9_.-]/g, '_')}.xml`);
  try {
    writeFileSync(file, current, { mode: 0o600 });
    // The editor runs through the shell as virsh does, so EDITOR may hold arguments.
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new VirtError('OPERATION_FAILED', `${editor}: command exited with status ${r.status ?? r.error?.message}`);
    }
    const edited = readFileSync(file, 'utf8');
    if (edited === current) {
      ctx.out.write(`${what} XML configuration not changed.\n`);
      return true;
    }
    const name = await define(edited);
    ctx.out.write(`${what} '${name}' XML configuration edited.\n`);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const edit: CommandDef = {
  name: 'edit',
  group: 'Domain Management',
  summary: 'edit XML configuration for a domain',
  options: [domainOption(), { name: 'skip-validate', type: 'bool', help: 'skip validation of the XML against the schema' }],
  async run(ctx) {
    const d = await ctx.domain();
    const current = await d.getXmlDesc({ inactive: true, secure: true });
    const conn = await ctx.conn();
    return editXml(ctx, 'Domain', current, async (xml) => (await conn.defineDomainXml(xml, { validate: !ctx.opts.flag('skip-validate') })).name);
  },
};

export const xmlCommands: CommandDef[] = [dumpxml, edit];
