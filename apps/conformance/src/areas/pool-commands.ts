import { VirtError, formatCommandLine, parseStoragePoolXml, type StoragePoolDef } from '@virtkit/core';
import * as fs from '@virtkit/storage-fs';
import * as logical from '@virtkit/storage-logical';
import * as netfs from '@virtkit/storage-netfs';
import type { ConformanceArea } from '../area.js';

/** The backend that starts a pool of each type with a command (libvirt: fs, netfs, logical). */
function startCommand(pool: StoragePoolDef, platform: NodeJS.Platform): string[] {
  switch (pool.type) {
    case 'fs':
      return fs.buildPoolStartCommand(pool, { platform });
    case 'netfs':
      return netfs.buildPoolStartCommand(pool, { platform });
    case 'logical':
      return logical.buildPoolStartCommand(pool);
    default:
      throw new VirtError('NO_SUPPORT', `storage pool '${pool.name}': no start command for a '${pool.type}' pool`);
  }
}

/** storagepoolxml2argv: pool XML → the command that starts it (Linux variant). */
const area: ConformanceArea = {
  name: 'pool-commands',
  compare: 'exact',
  run(ctx) {
    const pool = parseStoragePoolXml(ctx.readFile(ctx.row.input));
    const platform = (ctx.row.args.platform ?? 'linux') as NodeJS.Platform;
    return formatCommandLine(startCommand(pool, platform));
  },
};

export default area;
