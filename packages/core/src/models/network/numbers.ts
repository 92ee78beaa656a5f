/**
 * Unsigned integers as libvirt's virStrToLong_* read XML attribute values:
 * optional leading blanks and '+', then digits; base 0 also takes 0x-hex
 * and 0-octal. Nothing may follow the number.
 */
import { VirtError } from '../../errors.js';
import { parseCInteger } from '../../xml/values.js';

export function parseCUnsigned(text: string, base: 0 | 10 = 10): bigint | undefined {
  if (/^[ \t\n\r\f\v]*-/.test(text)) return undefined;
  return parseCInteger(text, base);
}

/** parseCUnsigned bounded by `max`, as a number; throws `code` with "`where`: invalid value" otherwise. */
export function requireCUnsigned(
  text: string,
  where: string,
  max: number = Number.MAX_SAFE_INTEGER,
  base: 0 | 10 = 10,
  code: VirtError['code'] = 'XML_ERROR',
): number {
  const v = parseCUnsigned(text, base);
  if (v === undefined || v > BigInt(max)) {
    throw new VirtError(code, `${where}: invalid value '${text}'${v !== undefined ? ` (at most ${max})` : ''}`, { origin: 'network' });
  }
  return Number(v);
}
