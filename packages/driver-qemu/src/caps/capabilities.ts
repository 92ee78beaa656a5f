import { VirtError } from '@virtkit/core';
import type { Accelerator } from '../process/accel.js';
import { QapiSchema } from './qapi-schema.js';
import type { QemuAccelCaps, QemuCapsData, QemuCpuModel, QemuMachineType } from './types.js';

/**
 * What one QEMU binary can do: virtkit's equivalent of libvirt's qemuCaps.
 * Built by a live probe (probeQemuCaps) or from libvirt's caps dumps
 * (loadLibvirtCapsDump); the command-line generator asks it.
 */
export class QemuCapabilities {
  readonly data: QemuCapsData;
  private readonly flagSet: ReadonlySet<string>;
  private schemaCache: QapiSchema | undefined;

  constructor(data: QemuCapsData) {
    this.data = data;
    this.flagSet = new Set(data.flags);
  }

  get binary(): string {
    return this.data.binary;
  }

  /** libvirt's encoding: 7002050 is 7.2.50. */
  get version(): number {
    return this.data.version;
  }

  get versionString(): string {
    const v = this.data.version;
    return `${Math.floor(v / 1_000_000)}.${Math.floor((v % 1_000_000) / 1000)}.${v % 1000}`;
  }

  get arch(): string {
    return this.data.arch;
  }

  get flags(): ReadonlySet<string> {
    return this.flagSet;
  }

  /** Is this libvirt capability flag (QEMU_CAPS_* by its string name) set? */
  has(flag: string): boolean {
    return this.flagSet.has(flag);
  }

  /** Is the QEMU at least major.minor.micro? */
  atLeast(major: number, minor = 0, micro = 0): boolean {
    return this.data.version >= major * 1_000_000 + minor * 1000 + micro;
  }

  accel(accel: Accelerator): QemuAccelCaps {
    return accel === 'kvm' ? this.data.kvm : this.data.tcg;
  }

  machines(accel: Accelerator): readonly QemuMachineType[] {
    return this.accel(accel).machines;
  }

  defaultMachine(accel: Accelerator): QemuMachineType | undefined {
    return this.machines(accel).find((m) => m.isDefault);
  }

  /** A machine type by name or alias (`pc`, `q35`), or undefined. */
  machine(name: string, accel: Accelerator): QemuMachineType | undefined {
    const list = this.machines(accel);
    return list.find((m) => m.name === name) ?? list.find((m) => m.alias === name);
  }

  /** The canonical name of a machine type; fails with CONFIG_UNSUPPORTED when QEMU lacks it. */
  canonicalMachine(name: string, accel: Accelerator): string {
    const m = this.machine(name, accel);
    if (!m) throw new VirtError('CONFIG_UNSUPPORTED', `machine type '${name}' is not supported by ${this.binary} (${accel})`, { origin: 'qemu' });
    return m.name;
  }

  cpuModels(accel: Accelerator): readonly QemuCpuModel[] {
    return this.accel(accel).cpuModels;
  }

  cpuModel(name: string, accel: Accelerator): QemuCpuModel | undefined {
    return this.cpuModels(accel).find((c) => c.name === name);
  }

  hasDevice(type: string): boolean {
    return this.data.types.includes(type);
  }

  deviceHasProperty(type: string, prop: string): boolean {
    return (this.data.deviceProps[type] ?? []).some((p) => p.name === prop);
  }

  hasCommand(name: string): boolean {
    return this.data.commands.includes(name);
  }

  /** The QAPI schema, when known. */
  get schema(): QapiSchema | undefined {
    if (!this.schemaCache && this.data.schema) this.schemaCache = new QapiSchema(this.data.schema);
    return this.schemaCache;
  }

  /** libvirt-style schema query (`blockdev-add/arg-type/+file/aio/^io_uring`); false without a schema. */
  schemaHas(query: string): boolean {
    return this.schema?.query(query) ?? false;
  }

  toJSON(): QemuCapsData {
    return this.data;
  }
}
