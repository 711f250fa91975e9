import os from 'node:os';
import path from 'node:path';

/**
 * What a command runs with: its output streams, its input, and where the login is stored. Built once
 * in main() from the process, so commands never read `process` themselves and tests can run them.
 */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** The file the login is stored in (WHARF_CLI_CONFIG, else ~/.wharf/config.json). */
  configPath: string;
  now: () => number;
}

export function contextFromProcess(): CliContext {
  endQuietlyWhenOutputCloses();
  const configPath = process.env.WHARF_CLI_CONFIG || path.join(os.homedir(), '.wharf', 'config.json');
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin as CliContext['stdin'],
    configPath,
    now: () => Date.now(),
  };
}

/**
 * `wharf image list | head -1`: the reader has what it wanted and closes the pipe. A C tool dies of
 * SIGPIPE there; Node ignores that signal and reports EPIPE as an error event instead, which
 * crashed the command with a stack trace. A closed stdout is a normal end: stop at once, quietly,
 * with status 0, so `set -o pipefail` scripts do not fail on a pager or `head`. (A closed stderr
 * only loses our messages; the exit status still tells.)
 */
function endQuietlyWhenOutputCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/** An error the user can act on: printed as `wharf: <message>` without a stack, exit code 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line is wrong (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

export function writeLine(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}
