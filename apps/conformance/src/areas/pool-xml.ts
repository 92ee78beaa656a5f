import { formatStoragePoolXml, parseStoragePoolXml } from '@virtkit/core';
import type { ConformanceArea } from '../area.js';

/** storagepoolxml2xml: parse the pool, format it back. */
const area: ConformanceArea = {
  name: 'pool-xml',
  compare: 'exact',
  run(ctx) {
    return formatStoragePoolXml(parseStoragePoolXml(ctx.readFile(ctx.row.input)));
  },
};

export default area;
