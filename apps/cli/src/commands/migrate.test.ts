import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { BufferOutput } from '../output.js';
import { formatJobInfo } from './devices.js';

async function vk(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = new BufferOutput();
  const code = await main(['-c', 'test:///default', ...argv], o);
  return { code, out: o.stdout, err: o.stderr };
}

describe('domjobinfo', () => {
  it("prints a running migration in virsh's layout", () => {
    const out = formatJobInfo(
      {
        type: 'unbounded', operation: 'migration-out', timeElapsedMs: 1496,
        dataProcessed: 51724288, dataRemaining: 218275840, dataTotal: 268967936,
        memProcessed: 51724288, memRemaining: 218275840, memTotal: 268967936, memBps: 33538048,
        memDirtyRate: 12, memPageSize: 4096, memIteration: 1, memPostcopyReqs: 0,
        memConstant: 1152, memNormal: 12601, memNormalBytes: 51613696, expectedDowntimeMs: 300, setupTimeMs: 2,
      },
      false,
    );
    expect(out).toBe(
      [
        'Job type:         Unbounded   ',
        'Operation:        Outgoing migration',
        'Time elapsed:     1496         ms',
        'Data processed:   49.328 MiB',
        'Data remaining:   208.164 MiB',
        'Data total:       256.508 MiB',
        'Memory processed: 49.328 MiB',
        'Memory remaining: 208.164 MiB',
        'Memory total:     256.508 MiB',
        'Memory bandwidth: 31.984 MiB/s',
        'Dirty rate:       12           pages/s',
        'Page size:        4096         bytes',
        'Iteration:        1           ',
        'Postcopy requests: 0           ',
        'Constant pages:   1152        ',
        'Normal pages:     12601       ',
        'Normal data:      49.223 MiB',
        'Expected downtime: 300          ms',
        'Setup time:       2            ms',
        '',
      ].join('\n'),
    );
  });

  it('shows disks copied with the migration as files, and a finished job only with --completed', () => {
    const done = { type: 'completed' as const, operation: 'migration-in', timeElapsedMs: 900, diskTotal: 1048576, diskProcessed: 1048576, diskRemaining: 0, downtimeMs: 12 };
    expect(formatJobInfo(done, false)).toBe('Job type:         Completed   \n');
    const full = formatJobInfo(done, true);
    expect(full).toContain('Operation:        Incoming migration\n');
    expect(full).toContain('File processed:   1.000 MiB\nFile remaining:   0.000 B\nFile total:       1.000 MiB\n');
    expect(full).toContain('Total downtime:   12           ms\n');
    expect(formatJobInfo({ type: 'none' }, false)).toBe('Job type:         None        \n');
  });
});

describe('migrate', () => {
  it('checks its options as virsh does', async () => {
    const both = await vk('migrate test qemu+ssh://h/system --copy-storage-all --copy-storage-inc');
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/copy-storage-all.*copy-storage-inc|mutually exclusive/);
    const direct = await vk('migrate test qemu+ssh://h/system --direct');
    expect(direct.err).toContain('direct migration is not supported');
  });

  it('is refused by a driver without migration', async () => {
    const r = await vk('migrate --live test qemu+ssh://h/system');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not supported/);
  });
});
