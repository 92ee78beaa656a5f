import type { ConformanceArea } from '../area.js';

const area: ConformanceArea = {
  name: 'qemu-argv',
  compare: 'argv',
  run() {
    throw new Error('not implemented yet');
  },
};

export default area;
