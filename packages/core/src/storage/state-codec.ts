import { parseXml } from '../xml/parse.js';
import { XmlElement } from '../xml/tree.js';
import { formatXml } from '../xml/write.js';

/**
 * JSON for runtime state that holds bigints (sizes) and kept XML elements:
 * `{"$big":"…"}` and `{"$xml":"…"}` stand for them, so a volume read back
 * from a state file is the same object a refresh produced.
 */
export function encodeState(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v === 'bigint') return { $big: v.toString() };
    if (v instanceof XmlElement) return { $xml: formatXml(v) };
    return v;
  });
}

export function decodeState<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$big === 'string' && Object.keys(o).length === 1) return BigInt(o.$big);
      if (typeof o.$xml === 'string' && Object.keys(o).length === 1) return parseXml(o.$xml, 'kept XML');
    }
    return v;
  }) as T;
}
