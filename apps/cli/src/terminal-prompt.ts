import { createInterface } from 'node:readline';
import { VirtError } from '@virtkit/core';

/**
 * Asks a question on the terminal (stderr, so stdout stays clean for
 * scripts). Secrets are read in raw mode without echo. Ctrl-C or Ctrl-D
 * cancels with AUTH_CANCELLED.
 */
export function terminalPrompt(question: string, opts: { secret: boolean }): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  if (!opts.secret || typeof input.setRawMode !== 'function') {
    return new Promise((resolve) => {
      const rl = createInterface({ input, output, terminal: true });
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      });
    });
  }
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    let answer = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new VirtError('AUTH_CANCELLED', 'authentication cancelled at the terminal'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    input.on('data', onData);
  });
}
