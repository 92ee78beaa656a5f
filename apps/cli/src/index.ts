export { main, runCommands, parseGlobalOptions } from './main.js';
export { COMMANDS, findCommand } from './commands/index.js';
export type { CommandDef, CommandContext, OptionDef } from './command.js';
export { BufferOutput, ProcessOutput, formatTable, formatKeyValues, prettyCapacity, type Output } from './output.js';
export { splitCommandString, splitCommandArgv, bindOptions } from './parse.js';
export { Session } from './session.js';
