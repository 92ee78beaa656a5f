/**
 * QEMU-specific checks of a domain definition (libvirt's qemu_validate.c).
 */
import { VirtError, type DomainDef, type DomainDevice, type DomainParseOptions } from '@virtkit/core';
import type { QemuDefaultsContext } from './postparse.js';

export interface QemuValidateContext extends QemuDefaultsContext {
  swtpmVersions: string[];
}

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}

export function qemuValidateDomain(def: DomainDef, _opts: DomainParseOptions, ctx: QemuValidateContext): void {
  const { caps } = ctx;
  const emulator = def.devices.emulator ?? '';
  if (def.os.arch && caps.arch && def.os.arch !== caps.arch && !(caps.arch === 'x86_64' && def.os.arch === 'i686')) {
    throw unsupported(`Emulator '${emulator}' does not support arch '${def.os.arch}'`);
  }
}

export function qemuValidateDevice(_dev: DomainDevice, _def: DomainDef, _opts: DomainParseOptions, _ctx: QemuValidateContext): void {
  // filled in below
}
