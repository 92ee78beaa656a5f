/**
 * Where the Xen driver keeps its state, like libvirt's libxl driver does:
 * persistent definitions as XML under <config>/libxl (autostart links in
 * libxl/autostart), and per running guest a record under <runtime>/libxl
 * with its domid and live XML plus the xl.cfg it was started from.
 */
import { mkdir, readdir, readFile, rm, symlink, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeObjectName, VirtError, writeFileAtomic, type DomainDef, type StateDirs } from '@virtkit/core';
import { formatXenDomainXml, parseXenDomainXml, type XenConversionOptions } from './conversion/index.js';

/** A guest this driver started, as recorded while it runs. */
export interface RuntimeRecord {
  name: string;
  uuid: string;
  domid: number;
  /** The live definition (XML, with `id`). */
  liveXml: string;
  startedAt: number;
}

function checkName(name: string): void {
  if (!isSafeObjectName(name)) throw new VirtError('INVALID_ARG', `domain name '${name}' cannot be used as a file name`, { origin: 'xen' });
}

export class XenStateStore {
  readonly configDir: string;
  readonly autostartDir: string;
  readonly runDir: string;
  readonly lockDir: string;

  constructor(dirs: StateDirs, private readonly conv: () => XenConversionOptions) {
    this.configDir = join(dirs.config, 'libxl');
    this.autostartDir = join(this.configDir, 'autostart');
    this.runDir = join(dirs.runtime, 'libxl');
    this.lockDir = join(this.runDir, 'locks');
  }

  async init(): Promise<void> {
    await mkdir(this.configDir, { recursive: true, mode: 0o700 });
    await mkdir(this.runDir, { recursive: true, mode: 0o700 });
  }

  lockPath(key: string): string {
    return join(this.lockDir, `${key}.lock`);
  }

  cfgPath(name: string): string {
    checkName(name);
    return join(this.runDir, `${name}.cfg`);
  }

  // ------------------------------------------------------------ definitions

  /** Every stored definition; a file that no longer parses is skipped (reported through `onBadFile`). */
  async listDefs(onBadFile?: (file: string, err: unknown) => void): Promise<DomainDef[]> {
    let files: string[];
    try {
      files = await readdir(this.configDir);
    } catch {
      return [];
    }
    const out: DomainDef[] = [];
    for (const f of files.sort()) {
      if (!f.endsWith('.xml')) continue;
      const path = join(this.configDir, f);
      try {
        out.push(parseXenDomainXml(await readFile(path, 'utf8'), this.conv()));
      } catch (err) {
        onBadFile?.(path, err);
      }
    }
    return out;
  }

  async saveDef(def: DomainDef): Promise<void> {
    checkName(def.name);
    await writeFileAtomic(join(this.configDir, `${def.name}.xml`), formatXenDomainXml(def, this.conv()));
  }

  async removeDef(name: string): Promise<void> {
    checkName(name);
    await rm(join(this.configDir, `${name}.xml`), { force: true });
    await rm(join(this.autostartDir, `${name}.xml`), { force: true });
  }

  async isAutostart(name: string): Promise<boolean> {
    if (!isSafeObjectName(name)) return false;
    try {
      await lstat(join(this.autostartDir, `${name}.xml`));
      return true;
    } catch {
      return false;
    }
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    checkName(name);
    const link = join(this.autostartDir, `${name}.xml`);
    if (!on) {
      await rm(link, { force: true });
      return;
    }
    await mkdir(this.autostartDir, { recursive: true });
    if (await this.isAutostart(name)) return;
    await symlink(join(this.configDir, `${name}.xml`), link);
  }

  // ------------------------------------------------------------ runtime records

  async readRuntime(name: string): Promise<RuntimeRecord | undefined> {
    if (!isSafeObjectName(name)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.runDir, `${name}.json`), 'utf8')) as RuntimeRecord;
    } catch {
      return undefined;
    }
  }

  async listRuntime(): Promise<RuntimeRecord[]> {
    let files: string[];
    try {
      files = await readdir(this.runDir);
    } catch {
      return [];
    }
    const out: RuntimeRecord[] = [];
    for (const f of files) {
      if (!f.endsWith('.json')) continue;
      const r = await this.readRuntime(f.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }

  async writeRuntime(rec: RuntimeRecord): Promise<void> {
    checkName(rec.name);
    await writeFileAtomic(join(this.runDir, `${rec.name}.json`), JSON.stringify(rec, null, 2));
  }

  async removeRuntime(name: string): Promise<void> {
    if (!isSafeObjectName(name)) return;
    await rm(join(this.runDir, `${name}.json`), { force: true });
    await rm(join(this.runDir, `${name}.cfg`), { force: true });
  }
}
