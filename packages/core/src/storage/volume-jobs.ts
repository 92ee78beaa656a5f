import { unlinkSync } from 'node:fs';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../host-process.js';

/** What a running job does to a volume (libvirt's `building` and `in_use` counters). */
export type VolumeJobRole = 'building' | 'in-use';

export interface VolumeJobMarker {
  volume: string;
  role: VolumeJobRole;
  pid: number;
  job: string;
}


/**
 * Jobs running on volumes, visible to every process of a URI family: one
 * marker file per job under `<runtime>/storage/jobs/POOL/`, named after the
 * volume, the role and the owner's pid. A marker whose owner died is
 * ignored and removed by the next reader, so a crash blocks nothing.
 */
export class VolumeJobs {
  constructor(private readonly root: string) {}

  private dir(pool: string): string {
    return join(this.root, pool);
  }

  /** Marks a job; the returned function ends it. */
  async begin(pool: string, volume: string, role: VolumeJobRole, job: string): Promise<() => Promise<void>> {
    await mkdir(this.dir(pool), { recursive: true });
    const file = join(this.dir(pool), `${encodeURIComponent(volume)}@${role}@${process.pid}@${Math.random().toString(36).slice(2, 10)}`);
    const fh = await open(file, 'wx', 0o600);
    await fh.writeFile(job);
    await fh.close();
    let done = false;
    // Removed synchronously: whoever learns the job ended (a stream's 'end') must find the volume free.
    return async () => {
      if (done) return;
      done = true;
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    };
  }

  /** Live jobs of a pool (or of one of its volumes). */
  async list(pool: string, volume?: string): Promise<VolumeJobMarker[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir(pool));
    } catch {
      return [];
    }
    const out: VolumeJobMarker[] = [];
    for (const e of entries) {
      const parts = e.split('@');
      if (parts.length !== 4) continue;
      const vol = decodeURIComponent(parts[0]!);
      if (volume !== undefined && vol !== volume) continue;
      const pid = Number(parts[2]);
      const file = join(this.dir(pool), e);
      if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
        await unlink(file).catch(() => {});
        continue;
      }
      const job = await readFile(file, 'utf8').catch(() => '');
      out.push({ volume: vol, role: parts[1] as VolumeJobRole, pid, job });
    }
    return out;
  }
}
