import type { DomainJobInfo } from '@virtkit/core';

/** QEMU's `query-migrate` answer (MigrationInfo), the parts virtkit reads. */
export interface QemuMigrationInfo {
  status?: string;
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'error-desc'?: string;
  ram?: {
    transferred?: number;
    remaining?: number;
    total?: number;
    duplicate?: number;
    normal?: number;
    'normal-bytes'?: number;
    'dirty-pages-rate'?: number;
    mbps?: number;
    'dirty-sync-count'?: number;
    'postcopy-requests'?: number;
    'page-size'?: number;
  };
  'socket-address'?: Array<{ type: string; host?: string; port?: string }>;
}

/** QEMU's `query-block-jobs` entry. */
export interface QemuBlockJob {
  device: string;
  type: string;
  len: number;
  offset: number;
  ready?: boolean;
  status?: string;
  speed?: number;
  error?: string;
}

/**
 * libvirt's job statistics (qemuMigrationAnyFetchStats +
 * qemuDomainJobDataToParams) from QEMU's migration info and, with
 * copied disks, the mirror jobs: data = memory + disks.
 */
export function jobStatsOf(m: QemuMigrationInfo, mirrors: QemuBlockJob[] = []): Partial<DomainJobInfo> {
  const out: Partial<DomainJobInfo> = {};
  const r = m.ram;
  if (r) {
    const total = r.total ?? 0;
    const processed = r.transferred ?? 0;
    // QEMU's `remaining` is what is still dirty; once done it is 0.
    const remaining = r.remaining ?? Math.max(0, total - processed);
    Object.assign(out, {
      memTotal: total,
      memProcessed: processed,
      memRemaining: remaining,
      memConstant: r.duplicate ?? 0,
      memNormal: r.normal ?? 0,
      memNormalBytes: r['normal-bytes'] ?? 0,
      memDirtyRate: r['dirty-pages-rate'] ?? 0,
      memIteration: r['dirty-sync-count'] ?? 0,
      memPostcopyReqs: r['postcopy-requests'] ?? 0,
      memPageSize: r['page-size'] ?? 4096,
      memBps: Math.round(((r.mbps ?? 0) * 1_000_000) / 8),
    });
  }
  if (mirrors.length) {
    const len = mirrors.reduce((n, j) => n + j.len, 0);
    const off = mirrors.reduce((n, j) => n + j.offset, 0);
    Object.assign(out, { diskTotal: len, diskProcessed: off, diskRemaining: Math.max(0, len - off) });
  }
  const dt = (out.memTotal ?? 0) + (out.diskTotal ?? 0);
  const dp = (out.memProcessed ?? 0) + (out.diskProcessed ?? 0);
  const dr = (out.memRemaining ?? 0) + (out.diskRemaining ?? 0);
  if (r || mirrors.length) Object.assign(out, { dataTotal: dt, dataProcessed: dp, dataRemaining: dr });
  if (m['expected-downtime'] !== undefined) out.expectedDowntimeMs = m['expected-downtime'];
  if (m.downtime !== undefined) out.downtimeMs = m.downtime;
  if (m['setup-time'] !== undefined) out.setupTimeMs = m['setup-time'];
  if (m['error-desc']) out.errorMessage = m['error-desc'];
  return out;
}

/** Progress as virsh shows it: how much of the total is no longer remaining. */
export function progressOf(stats: Partial<DomainJobInfo>): { processed: number; total: number } {
  const total = stats.dataTotal ?? 0;
  return { processed: Math.max(0, total - (stats.dataRemaining ?? total)), total };
}
