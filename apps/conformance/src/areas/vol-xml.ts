import { formatStorageVolXml, parseStoragePoolXml, parseStorageVolXml } from '@virtkit/core';
import type { ConformanceArea } from '../area.js';

/** storagevolxml2xml: parse the pool, the volume in it, format the volume back. */
const area: ConformanceArea = {
  name: 'vol-xml',
  compare: 'exact',
  run(ctx) {
    const { pool: poolFile, parseflags = '' } = ctx.row.args;
    if (!poolFile) throw new Error('row names no pool= file');
    const pool = parseStoragePoolXml(ctx.readFile(poolFile));
    const flags = parseflags.split('|');
    const vol = parseStorageVolXml(ctx.readFile(ctx.row.input), pool, {
      noCapacity: flags.includes('VIR_VOL_XML_PARSE_NO_CAPACITY'),
      optCapacity: flags.includes('VIR_VOL_XML_PARSE_OPT_CAPACITY'),
    });
    return formatStorageVolXml(vol, pool);
  },
};

export default area;
