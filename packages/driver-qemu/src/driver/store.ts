import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDomainXml, parseDomainXml, VirtError, writeFileAtomic, type DomainDef, type DomainParserConfig } from '@virtkit/core';
import { QemuPaths } from './paths.js';
import type { DomainRecord } from './record.js';

interface CacheEntry {
  key: string;
  def: DomainDef;
}

// Runtime files and stats use synchronous calls: a few microseconds each on
// a local folder, where each promise call waits a thread-pool round trip
// (tens of microseconds, more while TCG guests keep the cores busy), and a
// job makes several in a row.

function statKey(path: string): string | undefined {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Writes a small runtime file atomically without fsync: runtime state does
 * not outlive a reboot (/run, $XDG_RUNTIME_DIR are tmpfs), so rename is
 * enough to never show a torn file. Definitions still go through
 * writeFileAtomic, which syncs.
 */
function writeRuntimeFile(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(tmp, data, { mode: 0o600 });
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Per record file, the record this process last wrote or checked (shared by every connection of the process). */
const knownRecords = new Map<string, string>();
let writes = 0;

/** A record's identity: its stamp, or its text for a record written before stamps. */
function recordIdentity(r: DomainRecord): string {
  return r.stamp ?? JSON.stringify(r);
}

/**
 * The QEMU driver's files: persistent definitions, runtime records and live
 * XML, autostart marks, the id counter. Parsed definitions are cached by
 * file identity, so a long-lived process does not re-parse unchanged files
 * while another process's changes are still seen.
 */
export class DomainStore {
  private readonly defCache = new Map<string, CacheEntry>();
  private readonly liveCache = new Map<string, CacheEntry>();
  private dirsMade = false;
  private nextId: number | undefined;

  constructor(
    readonly paths: QemuPaths,
    private readonly parserConfig: (emulator?: string) => Promise<DomainParserConfig>,
  ) {}

  async ensureDirs(): Promise<void> {
    if (this.dirsMade) return;
    const p = this.paths;
    await Promise.all([p.configDir, p.runtimeDir, p.lockDir, p.dataDir].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
    this.dirsMade = true;
  }

  // ------------------------------------------------------------ names

  /** Names with a definition or a runtime record. */
  async names(): Promise<{ defined: Set<string>; recorded: Set<string> }> {
    const list = (dir: string, ext: string) => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith(ext) && !f.startsWith('.') && !f.endsWith('.job.json')).map((f) => f.slice(0, -ext.length));
      } catch {
        return [];
      }
    };
    const [defined, recorded] = [list(this.paths.configDir, '.xml'), list(this.paths.runtimeDir, '.json')];
    return { defined: new Set(defined), recorded: new Set(recorded) };
  }

  // ------------------------------------------------------------ definitions

  private async parseCached(cache: Map<string, CacheEntry>, path: string, inactive: boolean, what: string): Promise<DomainDef | undefined> {
    const key = statKey(path);
    if (key === undefined) {
      cache.delete(path);
      return undefined;
    }
    const hit = cache.get(path);
    if (hit && hit.key === key) return structuredClone(hit.def);
    const xml = readText(path);
    if (xml === undefined) return undefined;
    const emulator = /<emulator>([^<]*)<\/emulator>/.exec(xml)?.[1];
    const config = await this.parserConfig(emulator);
    let def: DomainDef;
    try {
      // Live XML is this driver's status document: it keeps what QEMU was given (auto ports).
      def = parseDomainXml(xml, { config, inactive, status: !inactive, what, skipValidate: true });
    } catch (err) {
      throw new VirtError('INTERNAL_ERROR', `cannot read ${what} ${path}: ${(err as Error).message}`, { origin: 'qemu', cause: err });
    }
    cache.set(path, { key, def });
    return structuredClone(def);
  }

  readDefinition(name: string): Promise<DomainDef | undefined> {
    return this.parseCached(this.defCache, this.paths.definition(name), true, `the definition of domain '${name}'`);
  }

  async writeDefinition(def: DomainDef, config: DomainParserConfig): Promise<void> {
    await this.ensureDirs();
    const path = this.paths.definition(def.name);
    await writeFileAtomic(path, formatDomainXml(def, { inactive: true, config }));
    this.remember(this.defCache, path, def);
  }

  /** What we just wrote is what the next read would parse: cache it instead of parsing it again. */
  private remember(cache: Map<string, CacheEntry>, path: string, def: DomainDef): void {
    const key = statKey(path);
    if (key) cache.set(path, { key, def: structuredClone(def) });
    else cache.delete(path);
  }

  async removeDefinition(name: string): Promise<void> {
    rmSync(this.paths.definition(name), { force: true });
    rmSync(this.paths.autostartLink(name), { force: true });
    this.defCache.delete(this.paths.definition(name));
  }

  // ------------------------------------------------------------ live XML

  readLive(name: string): Promise<DomainDef | undefined> {
    return this.parseCached(this.liveCache, this.paths.liveXml(name), false, `the live XML of domain '${name}'`);
  }

  async writeLive(def: DomainDef, config: DomainParserConfig): Promise<void> {
    await this.ensureDirs();
    const path = this.paths.liveXml(def.name);
    writeRuntimeFile(path, formatDomainXml(def, { config }));
    this.remember(this.liveCache, path, def);
  }

  async removeLive(name: string): Promise<void> {
    rmSync(this.paths.liveXml(name), { force: true });
    this.liveCache.delete(this.paths.liveXml(name));
  }

  // ------------------------------------------------------------ records

  /**
   * Whether `r` is the record as this process last wrote or checked it.
   * Any other record may be stale: another process may have died between
   * a QMP command and its record, or QEMU changed state with nobody
   * watching (the driver asks QEMU then; see run-state.ts).
   */
  isKnownRecord(r: DomainRecord): boolean {
    return knownRecords.get(this.paths.record(r.name)) === recordIdentity(r);
  }

  /** Stop trusting the record of `name`: QEMU may have changed behind it (a monitor command passed through), so the next job asks QEMU. */
  distrustRecord(name: string): void {
    knownRecords.delete(this.paths.record(name));
  }

  /** This process checked `r` against QEMU: trust it until someone else writes the record. */
  trustRecord(r: DomainRecord): void {
    knownRecords.set(this.paths.record(r.name), recordIdentity(r));
  }

  async readRecord(name: string): Promise<DomainRecord | undefined> {
    const text = readText(this.paths.record(name));
    if (text === undefined) return undefined;
    try {
      const r = JSON.parse(text) as DomainRecord;
      return r && r.format === 1 && r.name === name ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRecord(r: DomainRecord): Promise<void> {
    await this.ensureDirs();
    const path = this.paths.record(r.name);
    // A fresh stamp per write: a record never reads the same twice, so no process mistakes another's for one it knows.
    const stamped: DomainRecord = { ...r, stamp: `${process.pid}.${++writes}.${Date.now()}` };
    writeRuntimeFile(path, JSON.stringify(stamped));
    knownRecords.set(path, recordIdentity(stamped));
  }

  async removeRecord(name: string): Promise<void> {
    const path = this.paths.record(name);
    rmSync(path, { force: true });
    knownRecords.delete(path);
  }

  // ------------------------------------------------------------ autostart, managed save

  async autostart(name: string): Promise<boolean> {
    return statSync(this.paths.autostartLink(name), { throwIfNoEntry: false }) !== undefined;
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const link = this.paths.autostartLink(name);
    if (!on) {
      await unlink(link).catch(() => {});
      return;
    }
    await mkdir(this.paths.autostartDir, { recursive: true, mode: 0o700 });
    const target = this.paths.definition(name);
    const cur = await readlink(link).catch(() => undefined);
    if (cur === target) return;
    await unlink(link).catch(() => {});
    await symlink(target, link);
  }

  async autostartNames(): Promise<string[]> {
    try {
      return (await readdir(this.paths.autostartDir)).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
    } catch {
      return [];
    }
  }

  async hasManagedSave(name: string): Promise<boolean> {
    return statSync(this.paths.managedSave(name), { throwIfNoEntry: false })?.isFile() === true;
  }

  // ------------------------------------------------------------ ids

  /**
   * The next domain id (libvirt's nextvmid), unique among every process
   * using these folders: an id is taken by creating `ids/N` (mkdir is
   * atomic), starting from the highest seen. Ids are not reused until the
   * runtime folder is emptied (a reboot, for /run).
   */
  async allocateId(): Promise<number> {
    await this.ensureDirs();
    const dir = join(this.paths.runtimeDir, 'ids');
    if (this.nextId === undefined) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const taken = (await readdir(dir).catch(() => [] as string[])).map(Number).filter((n) => Number.isInteger(n));
      const max = taken.length ? Math.max(...taken) : 0;
      this.nextId = max + 1;
      // Old marks can go: nobody allocates below the highest one (which stays).
      await Promise.all(taken.filter((n) => n < max - 100).map((n) => rm(join(dir, String(n)), { recursive: true, force: true })));
    }
    for (;;) {
      const id = this.nextId++;
      try {
        mkdirSync(join(dir, String(id)));
        return id;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
}
