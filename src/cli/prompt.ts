import { createInterface } from 'node:readline/promises';
import { CliError, UsageError, type CliContext } from './context.js';

/** Everything on standard input, without the final line break (for --password-stdin and friends). */
export async function readStdin(ctx: CliContext, what: string): Promise<string> {
  if (ctx.stdin.isTTY) throw new UsageError(`${what} is read from standard input, which is a terminal: pipe it in, e.g. cat file | wharf ...`);
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`standard input is empty: pipe ${what} in`);
  return text;
}

/**
 * Asks for a secret on the terminal without echoing it. Without a terminal there is nobody to ask:
 * the error names the option that reads it from standard input instead.
 */
export async function promptSecret(ctx: CliContext, prompt: string, stdinOption: string): Promise<string> {
  const stdin = ctx.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) {
    throw new UsageError(`no terminal to ask for the ${prompt.toLowerCase().replace(/:\s*$/, '')}: pass it on standard input with ${stdinOption}`);
  }
  // Echo off before the prompt shows, so nothing typed in answer to it is echoed.
  stdin.setRawMode(true);
  ctx.stderr.write(prompt);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let secret = '';
      const onData = (data: Buffer | string) => {
        for (const ch of data.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(secret);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new CliError('cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
          else secret += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.stderr.write('\n');
  }
}

/** A new password: from standard input with --password-stdin, else asked twice on the terminal. */
export async function newPassword(ctx: CliContext, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return readStdin(ctx, 'the password');
  const password = await promptSecret(ctx, 'New password: ', '--password-stdin');
  const again = await promptSecret(ctx, 'Repeat the password: ', '--password-stdin');
  if (password !== again) throw new CliError('the passwords differ: run the command again');
  return password;
}

/**
 * Asks a yes/no question on the terminal; anything but yes is no. Without a terminal nobody can
 * answer, so it refuses (rather than wait on standard input) and names the option that skips it.
 */
export async function confirm(ctx: CliContext, question: string, skipOption: string): Promise<boolean> {
  if (!ctx.stdin.isTTY) throw new UsageError(`no terminal to confirm on: add ${skipOption} to go ahead without asking`);
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
