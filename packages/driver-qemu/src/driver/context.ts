import { domainEvent, stateDirsFor, type DomainDef, type DomainEventDetail, type DomainEventType, type DomainParserConfig, type EventBus, type PluginResolver, type VirtUri } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { probeQemuCaps } from '../caps/probe.js';
import { defaultQemuDriverConfig, type QemuDriverConfig } from '../defaults/config.js';
import { qemuParserConfig } from '../defaults/parser-config.js';
import { probeAccelerator, type Accelerator } from '../process/accel.js';
import { DEFAULT_QEMU_BINARY, findQemuBinary } from '../process/binary.js';
import { QemuPaths } from './paths.js';
import { DomainStore } from './store.js';

export interface QemuDriverSettings {
  /** QEMU binary for domains without `<emulator>` (default qemu-system-x86_64 from PATH). */
  binary?: string;
  /** Accelerator to use instead of probing (`VIRTKIT_QEMU_ACCEL` does the same). */
  accel?: Accelerator;
  /** Folder of the capability cache (default ~/.cache/virtkit/qemu). */
  capsCacheDir?: string;
}

/**
 * What every part of one opened QEMU driver shares: its folders and files,
 * the event bus, capabilities and parser configuration per emulator, the
 * accelerator.
 */
export class QemuDriverContext {
  readonly paths: QemuPaths;
  readonly store: DomainStore;
  readonly config: QemuDriverConfig;
  private readonly capsMemo = new Map<string, Promise<QemuCapabilities>>();
  private readonly parserMemo = new Map<string, Promise<DomainParserConfig>>();
  private accelMemo: Promise<Accelerator> | undefined;
  private defaultBinaryMemo: Promise<string> | undefined;

  constructor(
    readonly uri: VirtUri,
    readonly events: EventBus,
    readonly plugins: PluginResolver,
    readonly settings: QemuDriverSettings = {},
  ) {
    this.paths = new QemuPaths(stateDirsFor(uri));
    // The per-run folder the command line names (libDir/domain-ID-NAME) is ours under <runtime>/qemu.
    this.config = defaultQemuDriverConfig({ libDir: this.paths.runtimeDir, nvramDir: this.paths.nvramDir, memoryBackingDir: `${this.paths.runtimeDir}/ram` } as Partial<QemuDriverConfig>);
    this.store = new DomainStore(this.paths, (emulator) => this.parserConfig(emulator));
  }

  /** The default emulator: the configured binary resolved through PATH. */
  defaultBinary(): Promise<string> {
    this.defaultBinaryMemo ??= findQemuBinary(this.settings.binary ?? DEFAULT_QEMU_BINARY);
    return this.defaultBinaryMemo;
  }

  async binaryFor(def: DomainDef | undefined): Promise<string> {
    const e = def?.devices.emulator;
    return e ? findQemuBinary(e) : this.defaultBinary();
  }

  async caps(binary?: string): Promise<QemuCapabilities> {
    const b = binary ?? (await this.defaultBinary());
    let p = this.capsMemo.get(b);
    if (!p) {
      p = probeQemuCaps({ binary: b, ...(this.settings.capsCacheDir ? { cacheDir: this.settings.capsCacheDir } : {}) });
      this.capsMemo.set(b, p);
      p.catch(() => this.capsMemo.delete(b));
    }
    return p;
  }

  /** The parser configuration (define-time defaults, addresses, validation) for an emulator. */
  async parserConfig(emulator?: string): Promise<DomainParserConfig> {
    const b = emulator ? await findQemuBinary(emulator).catch(() => this.defaultBinary()) : await this.defaultBinary();
    let p = this.parserMemo.get(b);
    if (!p) {
      p = this.caps(b).then((caps) => qemuParserConfig(caps, { config: this.config, binDir: b.slice(0, b.lastIndexOf('/')) || '/usr/bin' }));
      this.parserMemo.set(b, p);
      p.catch(() => this.parserMemo.delete(b));
    }
    return p;
  }

  accel(): Promise<Accelerator> {
    if (this.settings.accel) return Promise.resolve(this.settings.accel);
    this.accelMemo ??= this.defaultBinary().then(async (binary) => (await probeAccelerator({ binary })).accel);
    return this.accelMemo;
  }

  emit<T extends DomainEventType>(type: T, detail: DomainEventDetail<T>, dom: { name: string; uuid: string; id: number }): void {
    this.events.emit(domainEvent(type, detail, dom));
  }

  emitOther(event: string, dom: { name: string; uuid: string; id: number }, data?: Record<string, unknown>): void {
    this.events.emit({ kind: 'domain-event', event, domain: { name: dom.name, uuid: dom.uuid, id: dom.id }, ...(data ? { data } : {}), timestamp: Date.now() });
  }
}
