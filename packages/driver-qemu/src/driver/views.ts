import { VirtError, type DomainDef, type DomainKey, type DomainSummary } from '@virtkit/core';
import { checkQemuIdentity } from '../process/qemu-process.js';
import type { QemuDriverContext } from './context.js';
import { monitors } from './monitors.js';
import { isActiveRecord, type DomainRecord } from './record.js';

/** One domain as the files say: its definition, live XML and runtime record. */
export interface DomainView {
  name: string;
  uuid: string;
  /** The persistent definition. */
  config?: DomainDef;
  /** The live definition while running. */
  live?: DomainDef;
  record?: DomainRecord;
}

export function isActive(v: DomainView): v is DomainView & { record: DomainRecord & { process: NonNullable<DomainRecord['process']> }; live: DomainDef } {
  return isActiveRecord(v.record) && !!v.live;
}

/** The definition that describes the domain now: live while running, else the persistent one. */
export function currentDef(v: DomainView): DomainDef {
  const d = (isActive(v) ? v.live : v.config) ?? v.live;
  if (!d) throw new VirtError('INTERNAL_ERROR', `domain '${v.name}' has no definition`, { origin: 'qemu' });
  return d;
}

export function noDomain(what: string): VirtError {
  return new VirtError('NO_DOMAIN', `Domain not found: no domain with matching ${what}`, { origin: 'qemu' });
}

export function keyText(key: DomainKey): string {
  return 'name' in key ? `name '${key.name}'` : 'uuid' in key ? `uuid '${key.uuid}'` : `id ${key.id}`;
}

/**
 * Reads domains from the store. A running record whose QEMU is gone is
 * handed to `reap` (the next process that looks records what happened).
 */
export class DomainViews {
  /** uuid → name as last seen: a lookup by uuid reads one domain instead of all. */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly ctx: QemuDriverContext,
    private readonly reap: (v: DomainView) => Promise<void>,
    /** Undoes a migration whose driving process died; true when it did (re-read the view). */
    private readonly recoverMigration: (v: DomainView) => Promise<boolean> = async () => false,
  ) {}

  /** A view by name, without the liveness check. */
  async byNameRaw(name: string): Promise<DomainView | undefined> {
    const [config, record] = await Promise.all([this.ctx.store.readDefinition(name), this.ctx.store.readRecord(name)]);
    const live = isActiveRecord(record) ? await this.ctx.store.readLive(name) : undefined;
    const uuid = config?.uuid ?? record?.uuid ?? live?.uuid;
    if (!uuid) return undefined;
    // A record left from another domain of the same name (undefined, then redefined) does not belong.
    const rec = record && record.uuid === uuid ? record : undefined;
    const v: DomainView = { name, uuid };
    if (config) v.config = config;
    if (rec) v.record = rec;
    if (live && rec && isActiveRecord(rec)) v.live = live;
    if (!config && !v.live) return undefined;
    return v;
  }

  /** A view by name, with a dead QEMU reaped first. */
  async byName(name: string): Promise<DomainView | undefined> {
    let v = await this.byNameRaw(name);
    if (v && (await this.checkAlive(v))) v = await this.byNameRaw(name);
    if (v) this.names.set(v.uuid, v.name);
    return v;
  }

  /** Every domain, with dead QEMUs reaped. */
  async all(): Promise<DomainView[]> {
    const { defined, recorded } = await this.ctx.store.names();
    const names = [...new Set([...defined, ...recorded])];
    const views = (await Promise.all(names.map((n) => this.byName(n)))).filter((v): v is DomainView => !!v);
    this.names.clear();
    for (const v of views) this.names.set(v.uuid, v.name);
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  async find(key: DomainKey): Promise<DomainView> {
    if ('name' in key) {
      const v = await this.byName(key.name);
      if (!v) throw noDomain(keyText(key));
      return v;
    }
    if ('uuid' in key) {
      const known = this.names.get(key.uuid);
      const v = known ? await this.byName(known) : undefined;
      if (v && v.uuid === key.uuid) return v;
    }
    const all = await this.all();
    const v = 'uuid' in key ? all.find((x) => x.uuid === key.uuid) : all.find((x) => isActive(x) && x.record.id === key.id);
    if (!v) throw noDomain(keyText(key));
    return v;
  }

  async byUuid(uuid: string): Promise<DomainView> {
    return this.find({ uuid });
  }

  /** True when the view's QEMU was found dead and reaped (re-read it then). */
  async checkAlive(v: DomainView): Promise<boolean> {
    if (!isActiveRecord(v.record)) return false;
    const st = v.record.process;
    const known = monitors.known(st);
    const alive = (known && known.isChild && !known.hasExited) || (await checkQemuIdentity(st)) === undefined;
    if (alive) return v.record.migration ? this.recoverMigration(v) : false;
    await this.reap(v);
    return true;
  }

  summary(v: DomainView, autostart: boolean, managedSave: boolean): DomainSummary {
    const active = isActive(v);
    const rec = v.record;
    return {
      id: active ? rec!.id : -1,
      name: v.name,
      uuid: v.uuid,
      state: active ? rec!.state : 'shutoff',
      reason: active ? rec!.reason : rec?.state === 'shutoff' ? rec.reason : managedSave ? 'saved' : 'unknown',
      persistent: !!v.config,
      autostart,
      managedSave,
    };
  }
}
