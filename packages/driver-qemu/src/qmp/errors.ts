import { VirtError } from '@virtkit/core';

/** How messages name what the monitor belongs to. */
export function monitorOwner(domain: string | undefined): string {
  return domain === undefined ? 'QEMU monitor' : `QEMU monitor of domain '${domain}'`;
}

/**
 * QEMU answered a command with `{"error": {"class", "desc"}}`. Code
 * OPERATION_FAILED, like libvirt's qemuMonitorJSONCheckError; the QMP error
 * class and text are kept for callers that map specific failures.
 */
export class QmpCommandError extends VirtError {
  readonly command: string;
  /** QMP error class: GenericError, CommandNotFound, DeviceNotFound, DeviceNotActive, KVMMissingCap. */
  readonly errorClass: string;
  readonly desc: string;

  constructor(command: string, errorClass: string, desc: string, domain: string | undefined) {
    const who = domain === undefined ? '' : ` on domain '${domain}'`;
    super('OPERATION_FAILED', `QEMU command '${command}' failed${who}: ${desc}`, { origin: 'qemu' });
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}
