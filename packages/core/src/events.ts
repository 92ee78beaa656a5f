/**
 * Lifecycle events with libvirt's types and details
 * (virDomainEventType / virNetworkEventLifecycleType /
 * virStoragePoolEventLifecycleType), carried on one bus per connection
 * and, through the remote protocol, across the wire.
 */

export const DOMAIN_EVENT_DETAILS = {
  defined: ['added', 'updated', 'renamed', 'from_snapshot'],
  undefined: ['removed', 'renamed'],
  started: ['booted', 'migrated', 'restored', 'from_snapshot', 'wakeup'],
  suspended: ['paused', 'migrated', 'ioerror', 'watchdog', 'restored', 'from_snapshot', 'api_error', 'postcopy', 'postcopy_failed'],
  resumed: ['unpaused', 'migrated', 'from_snapshot', 'postcopy', 'postcopy_failed'],
  stopped: ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from_snapshot'],
  shutdown: ['finished', 'guest', 'host'],
  pmsuspended: ['memory', 'disk'],
  crashed: ['panicked', 'crashloaded'],
} as const;

export type DomainEventType = keyof typeof DOMAIN_EVENT_DETAILS;
export type DomainEventDetail<T extends DomainEventType = DomainEventType> = (typeof DOMAIN_EVENT_DETAILS)[T][number];

export interface ObjectRef {
  name: string;
  uuid: string;
}

export interface DomainLifecycleEvent {
  kind: 'domain';
  type: DomainEventType;
  detail: DomainEventDetail;
  domain: ObjectRef & { id: number };
  /** ms since the epoch, when it happened. */
  timestamp: number;
}

/** Non-lifecycle domain events (libvirt's separate callbacks). */
export interface DomainOtherEvent {
  kind: 'domain-event';
  /** `reboot`, `device-removed`, `device-added`, `balloon-change`, `job-completed`, `migration-iteration`, … */
  event: string;
  domain: ObjectRef & { id: number };
  data?: Record<string, unknown>;
  timestamp: number;
}

export type NetworkEventType = 'defined' | 'undefined' | 'started' | 'stopped';
export interface NetworkLifecycleEvent {
  kind: 'network';
  type: NetworkEventType;
  network: ObjectRef;
  timestamp: number;
}

export type PoolEventType = 'defined' | 'undefined' | 'started' | 'stopped' | 'created' | 'deleted';
export interface PoolLifecycleEvent {
  kind: 'pool';
  type: PoolEventType;
  pool: ObjectRef;
  timestamp: number;
}

export type VirtEvent = DomainLifecycleEvent | DomainOtherEvent | NetworkLifecycleEvent | PoolLifecycleEvent;
export type VirtEventKind = VirtEvent['kind'];
export type VirtEventListener<E extends VirtEvent = VirtEvent> = (event: E) => void;

/**
 * A synchronous fan-out bus. A listener that throws is reported through
 * `onListenerError` and does not stop delivery to the others.
 */
export class EventBus {
  private readonly listeners = new Map<VirtEventKind | '*', Set<VirtEventListener>>();
  onListenerError: (err: unknown, event: VirtEvent) => void = () => {};

  on<K extends VirtEventKind>(kind: K | '*', listener: VirtEventListener<Extract<VirtEvent, { kind: K }>>): () => void {
    let set = this.listeners.get(kind);
    if (!set) this.listeners.set(kind, (set = new Set()));
    set.add(listener as VirtEventListener);
    return () => {
      set!.delete(listener as VirtEventListener);
    };
  }

  emit(event: VirtEvent): void {
    for (const key of [event.kind, '*'] as const) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const l of [...set]) {
        try {
          l(event);
        } catch (err) {
          this.onListenerError(err, event);
        }
      }
    }
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}

export function domainEvent<T extends DomainEventType>(
  type: T,
  detail: DomainEventDetail<T>,
  domain: ObjectRef & { id: number },
): DomainLifecycleEvent {
  return { kind: 'domain', type, detail, domain: { name: domain.name, uuid: domain.uuid, id: domain.id }, timestamp: Date.now() };
}

export function networkEvent(type: NetworkEventType, network: ObjectRef): NetworkLifecycleEvent {
  return { kind: 'network', type, network: { name: network.name, uuid: network.uuid }, timestamp: Date.now() };
}

export function poolEvent(type: PoolEventType, pool: ObjectRef): PoolLifecycleEvent {
  return { kind: 'pool', type, pool: { name: pool.name, uuid: pool.uuid }, timestamp: Date.now() };
}

const DOMAIN_TYPE_TEXT: Record<DomainEventType, string> = {
  defined: 'Defined', undefined: 'Undefined', started: 'Started', suspended: 'Suspended', resumed: 'Resumed',
  stopped: 'Stopped', shutdown: 'Shutdown', pmsuspended: 'PMSuspended', crashed: 'Crashed',
};

const DOMAIN_DETAIL_TEXT: Record<string, string> = {
  'defined.added': 'Added', 'defined.updated': 'Updated', 'defined.renamed': 'Renamed', 'defined.from_snapshot': 'Snapshot',
  'undefined.removed': 'Removed', 'undefined.renamed': 'Renamed',
  'started.booted': 'Booted', 'started.migrated': 'Migrated', 'started.restored': 'Restored', 'started.from_snapshot': 'Snapshot', 'started.wakeup': 'Event wakeup',
  'suspended.paused': 'Paused', 'suspended.migrated': 'Migrated', 'suspended.ioerror': 'I/O Error', 'suspended.watchdog': 'Watchdog',
  'suspended.restored': 'Restored', 'suspended.from_snapshot': 'Snapshot', 'suspended.api_error': 'API error',
  'suspended.postcopy': 'Post-copy', 'suspended.postcopy_failed': 'Post-copy Error',
  'resumed.unpaused': 'Unpaused', 'resumed.migrated': 'Migrated', 'resumed.from_snapshot': 'Snapshot', 'resumed.postcopy': 'Post-copy', 'resumed.postcopy_failed': 'Post-copy Error',
  'stopped.shutdown': 'Shutdown', 'stopped.destroyed': 'Destroyed', 'stopped.crashed': 'Crashed', 'stopped.migrated': 'Migrated',
  'stopped.saved': 'Saved', 'stopped.failed': 'Failed', 'stopped.from_snapshot': 'Snapshot',
  'shutdown.finished': 'Finished', 'shutdown.guest': 'Finished after guest request', 'shutdown.host': 'Finished after host request',
  'pmsuspended.memory': 'Memory', 'pmsuspended.disk': 'Disk',
  'crashed.panicked': 'Panicked', 'crashed.crashloaded': 'Crashloaded',
};

/** The line virsh prints for an event in `event --loop`. */
export function describeEvent(e: VirtEvent): string {
  switch (e.kind) {
    case 'domain':
      return `event 'lifecycle' for domain '${e.domain.name}': ${DOMAIN_TYPE_TEXT[e.type]} ${DOMAIN_DETAIL_TEXT[`${e.type}.${e.detail}`] ?? e.detail}`;
    case 'domain-event':
      return `event '${e.event}' for domain '${e.domain.name}'${e.data ? `: ${JSON.stringify(e.data)}` : ''}`;
    case 'network':
      return `event 'lifecycle' for network ${e.network.name}: ${e.type[0]!.toUpperCase()}${e.type.slice(1)}`;
    case 'pool':
      return `event 'lifecycle' for storage pool ${e.pool.name}: ${e.type[0]!.toUpperCase()}${e.type.slice(1)}`;
  }
}
