import { join, resolve } from 'node:path';
import { VirtError } from '../../errors.js';
import { parseXml } from '../parse.js';
import type { XmlElement } from '../tree.js';
import { compileRelaxNgFile, SchemaError } from './compile.js';
import { findLibvirtSchemaDir } from './schema-dir.js';
import { DocumentValidator, type RelaxNgViolation } from './validate.js';

/** A compiled RELAX NG schema: validates XmlElement trees. */
export class RelaxNgSchema {
  private readonly validator: DocumentValidator;
  /** How long compiling took, in milliseconds. */
  readonly compileMs: number;

  constructor(readonly path: string) {
    const t0 = performance.now();
    let compiled;
    try {
      compiled = compileRelaxNgFile(path);
    } catch (err) {
      if (err instanceof SchemaError) throw new VirtError('INTERNAL_ERROR', `Unable to parse RNG ${path}: ${err.message}`, { origin: 'xml' });
      throw err;
    }
    this.validator = new DocumentValidator(compiled);
    this.compileMs = performance.now() - t0;
  }

  /** The first place `root` breaks the schema, or undefined when it is valid. */
  check(root: XmlElement): RelaxNgViolation | undefined {
    return this.validator.check(root);
  }

  /** Throws XML_ERROR, worded as libvirt's virXMLValidateAgainstSchema, when `root` breaks the schema. */
  assertValid(root: XmlElement): void {
    const v = this.check(root);
    if (!v) return;
    throw new VirtError('XML_ERROR', `XML document failed to validate against schema: Unable to validate doc against ${this.path}\n${v.path}: ${v.reason}`, { origin: 'xml' });
  }
}

const compiled = new Map<string, RelaxNgSchema>();

/** Compiles the schema file at `path` once per process (cached by absolute path). Throws INTERNAL_ERROR for a schema it cannot use. */
export function compileRelaxNg(path: string): RelaxNgSchema {
  const abs = resolve(path);
  let s = compiled.get(abs);
  if (!s) {
    s = new RelaxNgSchema(abs);
    compiled.set(abs, s);
  }
  return s;
}

export type LibvirtSchemaKind = 'domain' | 'network' | 'storagepool' | 'storagevol';

export const LIBVIRT_SCHEMA_FILES: Readonly<Record<LibvirtSchemaKind, string>> = {
  domain: 'domain.rng',
  network: 'network.rng',
  storagepool: 'storagepool.rng',
  storagevol: 'storagevol.rng',
};

/**
 * `--validate` as libvirt does it: checks a document against libvirt's own
 * schema for its kind. Returns false, without checking, when no schema
 * folder is found (findLibvirtSchemaDir), so the caller can fall back to
 * its own checks; throws XML_ERROR for a document the schema refuses.
 */
export function validateLibvirtXml(kind: LibvirtSchemaKind, xml: string | XmlElement, opts: { schemaDir?: string } = {}): boolean {
  const dir = opts.schemaDir ?? findLibvirtSchemaDir();
  if (!dir) return false;
  const schema = compileRelaxNg(join(dir, LIBVIRT_SCHEMA_FILES[kind]));
  schema.assertValid(typeof xml === 'string' ? parseXml(xml, `${kind} XML`) : xml);
  return true;
}
