import { describe, expect, it } from 'vitest';
import { ERROR_CODES, libvirtErrorText, VirtError } from './errors.js';

describe('VirtError', () => {
  it('round-trips through JSON with its cause', () => {
    const inner = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const e = new VirtError('NO_DOMAIN', "no domain 'x'", { origin: 'qemu', cause: new VirtError('SYSTEM_ERROR', 'read failed', { cause: inner }) });
    const back = VirtError.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(back).toBeInstanceOf(VirtError);
    expect(back.code).toBe('NO_DOMAIN');
    expect(back.origin).toBe('qemu');
    expect(back.message).toBe("no domain 'x'");
    expect((back.cause as VirtError).code).toBe('SYSTEM_ERROR');
    expect(((back.cause as VirtError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('maps unknown codes and junk to INTERNAL_ERROR', () => {
    expect(VirtError.fromJSON({ code: 'NOPE', message: 'm' }).code).toBe('INTERNAL_ERROR');
    expect(VirtError.fromJSON(null).code).toBe('INTERNAL_ERROR');
    expect(VirtError.fromJSON('x').code).toBe('INTERNAL_ERROR');
  });

  it('keeps its code list append-only (the first codes never move)', () => {
    expect(ERROR_CODES.slice(0, 5)).toEqual(['INTERNAL_ERROR', 'NO_SUPPORT', 'NO_CONNECT', 'INVALID_CONN', 'INVALID_ARG']);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});

describe('libvirtErrorText', () => {
  it('words an error as libvirt does for its code, once', () => {
    expect(libvirtErrorText(new VirtError('OPERATION_INVALID', "domain 'x' is not running"))).toBe("Requested operation is not valid: domain 'x' is not running");
    expect(libvirtErrorText(new VirtError('OPERATION_INVALID', "Requested operation is not valid: domain 'x' is not running"))).toBe(
      "Requested operation is not valid: domain 'x' is not running",
    );
    expect(libvirtErrorText(new VirtError('XML_ERROR', "<memory>: invalid value 'x'"))).toBe("XML error: <memory>: invalid value 'x'");
    expect(libvirtErrorText(new VirtError('NO_STORAGE_POOL', "Storage pool not found: no storage pool with matching name 'p'"))).toBe(
      "Storage pool not found: no storage pool with matching name 'p'",
    );
    // libvirt prints system errors bare
    expect(libvirtErrorText(new VirtError('SYSTEM_ERROR', 'cannot open /x: ENOENT'))).toBe('cannot open /x: ENOENT');
  });
});
