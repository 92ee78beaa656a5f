import { isAbsolute } from 'node:path';
import { isUuid, parseUuid, VirtError } from '@virtkit/core';
import type { ArgKind, ArgSpec, Procedure } from './schema.js';

/** Longest XML document a call may carry (core's parser refuses larger ones too). */
const MAX_XML = 10 * 1024 * 1024;

function bad(proc: Procedure, i: number, why: string): VirtError {
  return new VirtError('INVALID_ARG', `${proc.name}: argument ${i + 1} ${why}`, { origin: 'remote' });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 1024 && !v.includes('\0');
}

function checkKey(v: unknown, allowed: string[][]): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v).sort();
  return allowed.some((set) => set.length === keys.length && set.every((k, i) => k === keys[i]));
}

/** Checks one argument; returns it normalised (UUIDs lowercased). */
function checkOne(proc: Procedure, i: number, kind: ArgKind, v: unknown): unknown {
  switch (kind) {
    case 'uuid':
      if (typeof v !== 'string' || !isUuid(v)) throw bad(proc, i, `must be a UUID, got ${JSON.stringify(v)?.slice(0, 64)}`);
      return parseUuid(v);
    case 'name':
      if (!isName(v)) throw bad(proc, i, 'must be a non-empty name without NUL, at most 1024 characters');
      return v;
    case 'string':
      if (typeof v !== 'string') throw bad(proc, i, 'must be a string');
      return v;
    case 'xml':
      if (typeof v !== 'string' || v.trim() === '') throw bad(proc, i, 'must be a non-empty XML string');
      if (v.length > MAX_XML) throw bad(proc, i, `is an XML document larger than ${MAX_XML} bytes`);
      return v;
    case 'path':
      if (typeof v !== 'string' || v.includes('\0') || !isAbsolute(v)) throw bad(proc, i, 'must be an absolute path');
      return v;
    case 'count':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(proc, i, 'must be a non-negative integer');
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(proc, i, 'must be a finite number');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw bad(proc, i, 'must be true or false');
      return v;
    case 'opts':
      if (!isPlainObject(v)) throw bad(proc, i, 'must be an options object');
      return v;
    case 'strings':
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(proc, i, 'must be a list of strings');
      return v;
    case 'domainKey':
      if (checkKey(v, [['name'], ['uuid'], ['id']])) {
        const k = v as Record<string, unknown>;
        if ('name' in k && isName(k.name)) return k;
        if ('uuid' in k && typeof k.uuid === 'string' && isUuid(k.uuid)) return { uuid: parseUuid(k.uuid) };
        if ('id' in k && Number.isSafeInteger(k.id) && (k.id as number) >= 0) return k;
      }
      throw bad(proc, i, 'must be a domain key: { name } | { uuid } | { id }');
    case 'networkKey':
      if (checkKey(v, [['name'], ['uuid']])) {
        const k = v as Record<string, unknown>;
        if ('name' in k && isName(k.name)) return k;
        if ('uuid' in k && typeof k.uuid === 'string' && isUuid(k.uuid)) return { uuid: parseUuid(k.uuid) };
      }
      throw bad(proc, i, 'must be a network key: { name } | { uuid }');
    case 'poolKey':
      if (checkKey(v, [['name'], ['uuid'], ['volumeKey']])) {
        const k = v as Record<string, unknown>;
        if ('name' in k && isName(k.name)) return k;
        if ('uuid' in k && typeof k.uuid === 'string' && isUuid(k.uuid)) return { uuid: parseUuid(k.uuid) };
        if ('volumeKey' in k && isName(k.volumeKey)) return k;
      }
      throw bad(proc, i, 'must be a pool key: { name } | { uuid } | { volumeKey }');
    case 'volumeKey':
      if (checkKey(v, [['name', 'pool'], ['key'], ['path']])) {
        const k = v as Record<string, unknown>;
        if ('pool' in k && isName(k.pool) && isName(k.name)) return k;
        if ('key' in k && isName(k.key)) return k;
        if ('path' in k && isName(k.path)) return k;
      }
      throw bad(proc, i, 'must be a volume key: { pool, name } | { key } | { path }');
    case 'interfaceKey':
      if (checkKey(v, [['name'], ['mac']])) {
        const k = v as Record<string, unknown>;
        if (('name' in k && isName(k.name)) || ('mac' in k && isName(k.mac))) return k;
      }
      throw bad(proc, i, 'must be an interface key: { name } | { mac }');
    case 'job':
    case 'source':
      // Stand-ins: the client sends `true` where a JobContext or a Readable was.
      if (v !== true && v !== undefined && v !== null) throw bad(proc, i, `must be the ${kind} marker`);
      return v;
  }
}

export function kindOf(spec: ArgSpec): { kind: ArgKind; optional: boolean } {
  return spec.endsWith('?') ? { kind: spec.slice(0, -1) as ArgKind, optional: true } : { kind: spec as ArgKind, optional: false };
}

/**
 * Checks a call's arguments against its procedure's row: count, kinds,
 * and normal forms. Missing optional arguments become undefined.
 */
export function checkArgs(proc: Procedure, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw new VirtError('INVALID_ARG', `${proc.name}: arguments must be a list`, { origin: 'remote' });
  if (raw.length > proc.args.length) {
    throw new VirtError('INVALID_ARG', `${proc.name}: takes at most ${proc.args.length} arguments, got ${raw.length}`, { origin: 'remote' });
  }
  const out: unknown[] = new Array(proc.args.length);
  for (let i = 0; i < proc.args.length; i++) {
    const { kind, optional } = kindOf(proc.args[i]!);
    const v = raw[i];
    if (v === undefined || v === null) {
      if (!optional && kind !== 'job' && kind !== 'source') throw bad(proc, i, `(${kind}) is missing`);
      out[i] = undefined;
      continue;
    }
    out[i] = checkOne(proc, i, kind, v);
  }
  return out;
}
