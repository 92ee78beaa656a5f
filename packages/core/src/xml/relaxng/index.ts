export { compileRelaxNg, RelaxNgSchema, validateLibvirtXml, LIBVIRT_SCHEMA_FILES, type LibvirtSchemaKind } from './schema.js';
export type { RelaxNgViolation } from './validate.js';
export { findLibvirtSchemaDir, SYSTEM_LIBVIRT_SCHEMA_DIR } from './schema-dir.js';
