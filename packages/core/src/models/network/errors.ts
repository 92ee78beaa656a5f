import { VirtError, type ErrorCode } from '../../errors.js';

/** A VirtError whose message starts with the object it is about ("network 'default': …"). */
export function netError(code: ErrorCode, where: string, message: string): VirtError {
  return new VirtError(code, `${where}: ${message}`, { origin: 'network' });
}
