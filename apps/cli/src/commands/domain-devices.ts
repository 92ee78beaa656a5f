import { parseXml, type XmlElement } from '@virtkit/core';
import type { CommandContext } from '../command.js';

/** The `<devices>` children of one kind of the command's domain (live XML, or the definition). */
export async function devicesOf(ctx: CommandContext, kind: string, inactive: boolean): Promise<XmlElement[]> {
  const d = await ctx.domain();
  const doc = parseXml(await d.getXmlDesc({ inactive }), `domain '${d.name}'`);
  return doc.child('devices')?.elements(kind) ?? [];
}

/** A disk's source as virsh's domblklist shows it: file, device, dir, name, or pool/volume. */
export function sourceOf(disk: XmlElement): string {
  const s = disk.child('source');
  if (!s) return '-';
  const v = s.attr('file') ?? s.attr('dev') ?? s.attr('dir') ?? s.attr('name') ?? (s.attr('pool') && s.attr('volume') ? `${s.attr('pool')}/${s.attr('volume')}` : undefined);
  return v ?? '-';
}
