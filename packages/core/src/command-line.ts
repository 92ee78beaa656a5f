/**
 * Prints an argv array the way libvirt's virCommandToString does, for logs,
 * dry runs and comparisons with libvirt's test data: each argument quoted
 * for a POSIX shell only when it needs it, optionally one option per line
 * with its value kept on the option's line.
 */

const SHELL_META = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

/** virBufferEscapeShell: single-quotes a word containing shell metacharacters. */
export function quoteShellWord(word: string): string {
  if (word !== '' && !SHELL_META.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface CommandLineFormatOptions {
  /** Break the line (` \` + newline) before every option and after every positional argument. */
  linebreaks?: boolean;
  /** Environment assignments printed before the command. */
  env?: ReadonlyArray<readonly [string, string]>;
}

export function formatCommandLine(argv: readonly string[], opts: CommandLineFormatOptions = {}): string {
  let out = '';
  for (const [k, v] of opts.env ?? []) out += `${k}=${quoteShellWord(v)} ${opts.linebreaks ? '\\\n' : ''}`;
  if (argv.length === 0) return out;
  out += quoteShellWord(argv[0]!);
  let prevOpt = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    out += ' ';
    if (opts.linebreaks && (arg.startsWith('-') || !prevOpt)) out += '\\\n';
    out += quoteShellWord(arg);
    prevOpt = arg.startsWith('-');
  }
  return out;
}
