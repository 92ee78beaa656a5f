/**
 * The QAPI schema as QEMU reports it (query-qmp-schema) and libvirt's query
 * language over it (qemu_qapi.c, virQEMUQAPISchemaPathGet):
 *
 *   command_or_event/arg-type|ret-type/member/+variant/...
 *
 * where a step may be `member` (an object member), `*member` (an optional
 * one), `+name` (the variant whose case is name), `^value` (an enum value),
 * `$feature` (a feature flag of the entry reached so far) or `!type` (the
 * JSON type of a builtin). Arrays are looked through; alternates try each
 * of their types.
 */

interface SchemaEntry {
  name: string;
  'meta-type': string;
  'arg-type'?: string;
  'ret-type'?: string;
  members?: Array<{ name?: string; type: string; default?: unknown }>;
  variants?: Array<{ case: string; type: string }>;
  values?: string[];
  'element-type'?: string;
  'json-type'?: string;
  features?: string[];
}

export class QapiSchema {
  private readonly byName = new Map<string, SchemaEntry>();

  constructor(entries: readonly unknown[]) {
    for (const e of entries) {
      if (e && typeof e === 'object' && typeof (e as SchemaEntry).name === 'string') this.byName.set((e as SchemaEntry).name, e as SchemaEntry);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Names of all entries of one meta-type (`command`, `event`, …). */
  names(metaType: string): string[] {
    const out: string[] = [];
    for (const e of this.byName.values()) if (e['meta-type'] === metaType) out.push(e.name);
    return out;
  }

  /** True when the query path resolves (see the class comment). */
  query(path: string): boolean {
    const steps = path.split('/');
    const first = this.byName.get(steps[0]!);
    if (!first) return false;
    return this.walk(first, steps, 1, 0);
  }

  private walk(entry: SchemaEntry, steps: string[], i: number, depth: number): boolean {
    if (depth > 64) return false;
    if (i >= steps.length) return true;
    const step = steps[i]!;
    if (step.startsWith('$')) {
      return (entry.features ?? []).includes(step.slice(1)) && this.walk(entry, steps, i + 1, depth + 1);
    }
    switch (entry['meta-type']) {
      case 'command':
      case 'event': {
        if (step !== 'arg-type' && step !== 'ret-type') return false;
        const t = entry[step];
        const next = t === undefined ? undefined : this.byName.get(t);
        return next !== undefined && this.walk(next, steps, i + 1, depth + 1);
      }
      case 'array': {
        const next = this.byName.get(entry['element-type'] ?? '');
        return next !== undefined && this.walk(next, steps, i, depth + 1);
      }
      case 'alternate':
        return (entry.members ?? []).some((m) => {
          const next = this.byName.get(m.type);
          return next !== undefined && this.walk(next, steps, i, depth + 1);
        });
      case 'enum': {
        if (!step.startsWith('^')) return false;
        const values = entry.values ?? (entry.members ?? []).map((m) => m.name ?? '');
        return values.includes(step.slice(1)) && i + 1 === steps.length;
      }
      case 'builtin':
        return step.startsWith('!') && entry['json-type'] === step.slice(1) && i + 1 === steps.length;
      case 'object': {
        if (step.startsWith('+')) {
          const v = (entry.variants ?? []).find((x) => x.case === step.slice(1));
          const next = v ? this.byName.get(v.type) : undefined;
          return next !== undefined && this.walk(next, steps, i + 1, depth + 1);
        }
        const optional = step.startsWith('*');
        const name = optional ? step.slice(1) : step;
        const m = (entry.members ?? []).find((x) => x.name === name);
        if (!m) return false;
        if (optional && !('default' in m)) return false;
        const next = this.byName.get(m.type);
        return next !== undefined && this.walk(next, steps, i + 1, depth + 1);
      }
      default:
        return false;
    }
  }
}
