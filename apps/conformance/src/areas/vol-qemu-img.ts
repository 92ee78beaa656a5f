import {
  formatCommandLine,
  parseStoragePoolXml,
  parseStorageVolXml,
  type StoragePoolDef,
  type StorageVolDef,
} from '@virtkit/core';
import { buildQemuImgCommands } from '@virtkit/storage-volume-format';
import type { ConformanceArea } from '../area.js';

/** The harness forces the type a pool's createVol would give the volume. */
function setVolumeType(vol: StorageVolDef, pool: StoragePoolDef): void {
  if (pool.type === 'dir' || pool.type === 'fs' || pool.type === 'netfs') vol.type = 'file';
  else if (pool.type === 'logical') vol.type = 'block';
}

/** storagevolxml2argv: volume XML (and an input volume) → qemu-img command line(s). */
const area: ConformanceArea = {
  name: 'vol-qemu-img',
  compare: 'exact',
  run(ctx) {
    const a = ctx.row.args;
    if (!a.pool) throw new Error('row names no pool= file');
    const pool = parseStoragePoolXml(ctx.readFile(a.pool));
    const flags = (a.flags ?? '0').split('|');
    const parseFlags = (a.parseflags ?? '').split('|');
    const vol = parseStorageVolXml(ctx.readFile(ctx.row.input), pool, {
      noCapacity: !!a.inputvol || parseFlags.includes('VIR_VOL_XML_PARSE_NO_CAPACITY'),
      optCapacity: parseFlags.includes('VIR_VOL_XML_PARSE_OPT_CAPACITY'),
    });
    setVolumeType(vol, pool);
    let inputPool: StoragePoolDef | undefined;
    let inputVol: StorageVolDef | undefined;
    if (a.inputvol) {
      inputPool = parseStoragePoolXml(ctx.readFile(a.inputpool ?? a.pool));
      inputVol = parseStorageVolXml(ctx.readFile(a.inputvol), inputPool);
      setVolumeType(inputVol, inputPool);
    }
    const commands = buildQemuImgCommands({
      pool,
      vol,
      ...(inputVol && inputPool ? { inputVol, inputPool } : {}),
      preallocMetadata: flags.includes('VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA'),
      tool: 'qemu-img',
      secretPath: '/path/to/secretFile',
      inputSecretPath: '/path/to/inputSecretFile',
    });
    return commands.map((argv) => formatCommandLine(argv)).join('\n');
  },
};

export default area;
