import { join } from 'node:path';
import { isSafeObjectName, socketDirFor, VirtError, type StateDirs } from '@virtkit/core';

/**
 * Where the QEMU driver keeps things under a URI's state directories
 * (DESIGN.md, "State directories"), after libvirt's layout:
 *
 * | what | where |
 * | --- | --- |
 * | definitions | `<config>/qemu/NAME.xml` |
 * | autostart marks | `<config>/qemu/autostart/NAME.xml` (symlink to the definition) |
 * | runtime record, live XML | `<runtime>/qemu/NAME.json`, `<runtime>/qemu/NAME.xml` |
 * | per-run folder (pidfile, monitor, master key) | `<runtime>/qemu/domain-ID-NAME/` |
 * | locks | `<runtime>/qemu/lock/UUID.lock`, `<runtime>/qemu/lock/driver.lock` |
 * | domain ids handed out | `<runtime>/qemu/ids/N` |
 * | managed save images | `<data>/qemu/save/NAME.save` |
 * | logs | `<data>/qemu/log/NAME.log` |
 */
export class QemuPaths {
  readonly configDir: string;
  readonly autostartDir: string;
  readonly runtimeDir: string;
  readonly lockDir: string;
  readonly dataDir: string;
  readonly saveDir: string;
  readonly logDir: string;
  readonly nvramDir: string;

  constructor(readonly dirs: StateDirs) {
    this.configDir = join(dirs.config, 'qemu');
    this.autostartDir = join(this.configDir, 'autostart');
    this.runtimeDir = join(dirs.runtime, 'qemu');
    this.lockDir = join(this.runtimeDir, 'lock');
    this.dataDir = join(dirs.data, 'qemu');
    this.saveDir = join(this.dataDir, 'save');
    this.logDir = join(this.dataDir, 'log');
    this.nvramDir = join(this.dataDir, 'nvram');
  }

  /** Refuses names that cannot be file names (they would escape the folder). */
  static checkName(name: string): string {
    if (!isSafeObjectName(name)) throw new VirtError('XML_ERROR', `domain name '${name}' cannot be used: it must not be empty, '.', '..' or hold '/'`, { origin: 'qemu' });
    return name;
  }

  definition(name: string): string {
    return join(this.configDir, `${name}.xml`);
  }
  autostartLink(name: string): string {
    return join(this.autostartDir, `${name}.xml`);
  }
  record(name: string): string {
    return join(this.runtimeDir, `${name}.json`);
  }
  liveXml(name: string): string {
    return join(this.runtimeDir, `${name}.xml`);
  }
  /** Progress of a long job (save, restore), readable by other processes. */
  jobFile(name: string): string {
    return join(this.runtimeDir, `${name}.job.json`);
  }
  /** Another process asks the job owner to abort by creating this file. */
  abortFile(name: string): string {
    return join(this.runtimeDir, `${name}.abort`);
  }
  /** libvirt's per-run folder name: `domain-ID-SHORTNAME` (name cut to 20 characters). */
  runDir(id: number, name: string): string {
    return join(this.runtimeDir, `domain-${id}-${shortName(name)}`);
  }
  /** Sockets of a run (migration, unix consoles) go where their paths fit in sun_path. */
  socketDir(id: number, name: string): string {
    return socketDirFor(this.runDir(id, name), 24);
  }
  managedSave(name: string): string {
    return join(this.saveDir, `${name}.save`);
  }
  log(name: string): string {
    return join(this.logDir, `${name}.log`);
  }
  domainLock(uuid: string): string {
    return join(this.lockDir, `${uuid}.lock`);
  }
  /** Taken around changes of the set of domains (define, undefine, create, id allocation). */
  get driverLock(): string {
    return join(this.lockDir, 'driver.lock');
  }
  get autostartDoneFile(): string {
    return join(this.runtimeDir, 'autostarted');
  }
}

/** libvirt's virDomainDefGetShortName: the name cut to 20 characters (by characters, not bytes). */
export function shortName(name: string): string {
  return [...name].slice(0, 20).join('');
}
