/**
 * Unsigned integers as libvirt's virStrToLong_* read XML attribute values:
 * optional leading blanks and '+', then digits; base 0 also takes 0x-hex
 * and 0-octal. Nothing may follow the number.
 */
import { VirtError } from '../../errors.js';

export function parseCUnsigned(text: string, base: 0 | 10 = 10): bigint | undefined {
  const m = /^[ \t\n\r\f\v]*\+?(.*)$/s.exec(text);
  const s = m ? m[1]! : text;
  if (base === 0) {
    if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt('0x' + s.slice(2));
    if (/^0[0-7]*$/.test(s)) return s.length === 1 ? 0n : BigInt('0o' + s.slice(1));
  }
  if (/^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
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
