/**
 * JSON property objects as libvirt's virJSONValueObjectAdd builds them:
 * keys keep their insertion order and absent values are left out, so
 * callers list properties in libvirt's order and pass `undefined` for the
 * ones a device does not set.
 */

/** bigint carries 64-bit unsigned values (WWNs) that a double cannot hold. */
export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** An object of the given entries, skipping undefined values. */
export function props(entries: ReadonlyArray<readonly [string, JsonValue | undefined]>): JsonObject {
  const o: JsonObject = {};
  for (const [k, v] of entries) if (v !== undefined) o[k] = v;
  return o;
}

/** Appends entries to an existing object (virJSONValueObjectAdd on a built object). */
export function addProps(o: JsonObject, entries: ReadonlyArray<readonly [string, JsonValue | undefined]>): JsonObject {
  for (const [k, v] of entries) if (v !== undefined) o[k] = v;
  return o;
}

/** libvirt's 'p:'/'P:' adders: a number, left out when zero. */
export function nz(n: number | undefined): number | undefined {
  return n ? n : undefined;
}

/** libvirt's 'k:' adder: a number, left out when negative (unset). */
export function nonneg(n: number | undefined): number | undefined {
  return n === undefined || n < 0 ? undefined : n;
}

/** libvirt's 'B:' adder: true, or nothing. */
export function trueOnly(b: boolean | undefined): true | undefined {
  return b ? true : undefined;
}

/** on/off for a tristate switch, or nothing (qemuOnOffAuto). */
export function onOff(b: boolean | undefined): string | undefined {
  return b === undefined ? undefined : b ? 'on' : 'off';
}

/**
 * Compact JSON as virJSONValueToString(…, false) prints it: bigints as
 * plain numbers, undefined members left out (as JSON.stringify does).
 */
export function toJson(v: JsonValue): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : toJson(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Doubles commas so a value survives QEMU's option parser (virQEMUBuildBufferEscapeComma). */
export function escapeComma(s: string): string {
  return s.replace(/,/g, ',,');
}
