/**
 * Readers for xl's output formats (tools/xl/xl_info.c): `xl info`
 * ("key : value" lines), `xl list` (a table with a state column of six
 * flags r b p s c d) and `xl list -l` (a JSON array of
 * { domid, config: libxl_domain_config }).
 */
import { VirtError, type DomainState } from '@virtkit/core';

/** `xl info`: the "name : value" lines as a map. */
export function parseXlInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\s*:\s?(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** One row of `xl list`. */
export interface XlListRow {
  name: string;
  domid: number;
  /** Current memory, MiB. */
  memMiB: number;
  vcpus: number;
  /** The six state letters, e.g. `-b----`. */
  flags: string;
  cpuTimeS: number;
}

export function parseXlList(text: string): XlListRow[] {
  const rows: XlListRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || /^Name\s+ID\s+Mem/.test(line)) continue;
    const t = line.trim().split(/\s+/);
    if (t.length < 6) continue;
    const time = Number(t[t.length - 1]);
    const flags = t[t.length - 2]!;
    const vcpus = Number(t[t.length - 3]);
    const mem = Number(t[t.length - 4]);
    const domid = Number(t[t.length - 5]);
    if (!/^\S{6}$/.test(flags) || !Number.isInteger(domid)) {
      throw new VirtError('OPERATION_FAILED', `cannot read 'xl list' output line '${line}'`, { origin: 'xen' });
    }
    rows.push({ name: t.slice(0, t.length - 5).join(' '), domid, memMiB: mem, vcpus, flags, cpuTimeS: time });
  }
  return rows;
}

/**
 * The libvirt state of a domain from its `xl list` flags: running, blocked,
 * paused, shutdown, the shutdown reason letter (`-rscwS`) and dying.
 */
export function stateFromFlags(flags: string): { state: DomainState; reason: string } {
  if (flags[5] === 'd') return { state: 'shutdown', reason: 'unknown' };
  if (flags[3] === 's') return flags[4] === 'c' ? { state: 'crashed', reason: 'unknown' } : { state: 'shutdown', reason: 'unknown' };
  if (flags[2] === 'p') return { state: 'paused', reason: 'user' };
  return { state: 'running', reason: 'booted' };
}

/** What the driver reads from one `xl list -l` element. */
export interface XlDomainDetails {
  domid: number | null;
  name: string;
  uuid: string;
  /** `pv`, `hvm` or `pvh`. */
  type: string;
  maxMemKiB: number;
  targetMemKiB: number;
  maxVcpus: number;
  /** The whole libxl_domain_config, as xl printed it. */
  config: Record<string, unknown>;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function num(v: unknown, dflt = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

export function parseXlListLong(text: string): XlDomainDetails[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (err) {
    throw new VirtError('OPERATION_FAILED', `cannot read 'xl list -l' output as JSON: ${(err as Error).message}`, { origin: 'xen', cause: err });
  }
  if (!Array.isArray(data)) throw new VirtError('OPERATION_FAILED', "'xl list -l' did not print a JSON array", { origin: 'xen' });
  return data.map((d) => {
    const e = obj(d);
    const config = obj(e.config);
    const cInfo = obj(config.c_info);
    const bInfo = obj(config.b_info);
    return {
      domid: typeof e.domid === 'number' ? e.domid : null,
      name: typeof cInfo.name === 'string' ? cInfo.name : '',
      uuid: typeof cInfo.uuid === 'string' ? cInfo.uuid : '',
      type: typeof cInfo.type === 'string' ? cInfo.type : 'pv',
      maxMemKiB: num(bInfo.max_memkb),
      targetMemKiB: num(bInfo.target_memkb, num(bInfo.max_memkb)),
      maxVcpus: num(bInfo.max_vcpus, 1),
      config,
    };
  });
}
