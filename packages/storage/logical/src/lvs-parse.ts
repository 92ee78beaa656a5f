import { VirtError, type StoragePoolSource, type StoragePoolSourceList, type StorageVolDef } from '@virtkit/core';

/** One row of `lvs` (one segment of a logical volume). */
export interface LvsRow {
  name: string;
  origin: string;
  uuid: string;
  /** `/dev/loop0(12)` per stripe: device and first physical extent. */
  stripes: Array<{ device: string; pe: bigint }>;
  segSize: bigint;
  extentSize: bigint;
  size: bigint;
  attr: string;
  segStart: bigint;
}

function big(s: string, what: string): bigint {
  const t = s.trim();
  if (!/^[0-9]+$/.test(t)) throw new VirtError('PARSE_FAILED', `lvs output: malformed ${what} '${s}'`, { origin: 'storage.logical' });
  return BigInt(t);
}

/** Parses `lvs --separator '#'` output with LVS_COLUMNS. */
export function parseLvs(output: string): LvsRow[] {
  const rows: LvsRow[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim() || /^\s*WARNING:/.test(line)) continue;
    const f = line.trim().split('#');
    if (f.length < 9) continue;
    const stripes: LvsRow['stripes'] = [];
    for (const part of f[3]!.split(',')) {
      const m = /^(.+)\(([0-9]+)\)$/.exec(part.trim());
      if (m) stripes.push({ device: m[1]!, pe: BigInt(m[2]!) });
    }
    rows.push({
      name: f[0]!.trim(),
      origin: f[1]!.trim(),
      uuid: f[2]!.trim(),
      stripes,
      segSize: big(f[4]!, 'seg_size'),
      extentSize: big(f[5]!, 'vg_extent_size'),
      size: big(f[6]!, 'size'),
      attr: f[7]!.trim(),
      segStart: big(f[8]!, 'seg_start'),
    });
  }
  return rows;
}

/** Parses `pvs --separator '#' -o pv_name,vg_name,pe_start`. */
export function parsePvs(output: string): Array<{ device: string; vg: string; peStart: bigint }> {
  const out: Array<{ device: string; vg: string; peStart: bigint }> = [];
  for (const line of output.split('\n')) {
    const f = line.trim().split('#');
    if (f.length < 3 || !f[0]) continue;
    out.push({ device: f[0], vg: f[1]!, peStart: big(f[2]!, 'pe_start') });
  }
  return out;
}

/** Parses `vgs --separator : -o vg_size,vg_free`. */
export function parseVgs(output: string): { size: bigint; free: bigint } {
  const line = output.split('\n').find((l) => l.trim() && !/WARNING:/.test(l));
  const f = line?.trim().split(':') ?? [];
  if (f.length < 2) throw new VirtError('PARSE_FAILED', `vgs output: expected size and free space, got '${output.trim()}'`, { origin: 'storage.logical' });
  return { size: big(f[0]!, 'vg_size'), free: big(f[1]!, 'vg_free') };
}

/** Where one segment of a volume is on a physical volume, in bytes. */
export interface LvSegment {
  device: string;
  deviceOffset: bigint;
  volumeOffset: bigint;
  length: bigint;
}

/**
 * The volumes of a group from `lvs` rows (libvirt's
 * virStorageBackendLogicalMakeVol): thin pools are skipped, key is the LV
 * UUID, path `/dev/VG/LV`, extents as libvirt prints them (start and end
 * in bytes within the physical volume's extent area). `segments` gives
 * each linear segment's byte range on its device (needs `pe_start`).
 */
export function volumesFromLvs(
  rows: LvsRow[],
  vg: string,
  peStart: Map<string, bigint>,
): Array<{ vol: StorageVolDef; segments: LvSegment[] | undefined }> {
  const byName = new Map<string, { vol: StorageVolDef; segments: LvSegment[] | undefined }>();
  for (const r of rows) {
    // Thin pools ('t') and their hidden parts ('[…]') have no device of their own.
    if (r.attr.startsWith('t') || r.name.startsWith('[')) continue;
    let entry = byName.get(r.name);
    if (!entry) {
      const vol: StorageVolDef = {
        name: r.name,
        key: r.uuid,
        type: 'block',
        extents: [],
        capacity: r.size,
        allocation: r.size,
        hasAllocation: true,
        target: { path: `/dev/${vg}/${r.name}`, perms: {}, nocow: false },
      };
      if (r.origin) vol.backingStore = { path: `/dev/${vg}/${r.origin}`, perms: {} };
      entry = { vol, segments: [] };
      byName.set(r.name, entry);
    }
    for (const s of r.stripes) {
      const start = s.pe * r.extentSize;
      entry.vol.extents.push({ path: s.device, start, end: start + r.segSize / BigInt(r.stripes.length) });
    }
    if (r.stripes.length === 1 && entry.segments) {
      const s = r.stripes[0]!;
      const base = peStart.get(s.device);
      if (base === undefined) entry.segments = undefined;
      else entry.segments.push({ device: s.device, deviceOffset: base + s.pe * r.extentSize, volumeOffset: r.segStart, length: r.segSize });
    } else entry.segments = undefined;
  }
  return [...byName.values()];
}

/** `pvs -o pv_name,vg_name` → find-storage-pool-sources' list (libvirt groups devices by volume group). */
export function sourcesFromPvs(output: string): StoragePoolSourceList {
  const groups = new Map<string, StoragePoolSource>();
  for (const line of output.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !f[0] || !f[1] || f[0].startsWith('WARNING')) continue;
    let src = groups.get(f[1]);
    if (!src) {
      src = { hosts: [], devices: [], name: f[1], format: 'lvm2' };
      groups.set(f[1], src);
    }
    src.devices.push({ path: f[0] });
  }
  return { type: 'logical', sources: [...groups.values()] };
}
