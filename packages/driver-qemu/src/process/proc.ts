export { processAlive, readProcCmdline, readProcStat, sendSignal, type ProcStat } from '@virtkit/core';
