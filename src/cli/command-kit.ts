import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError } from './context.js';

/** Pieces every command group uses: the --format option, examples in --help, argument parsers. */

export type OutputFormat = 'table' | 'json';

export function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['table', 'json']).default('table');
}

/** Appends an "Examples:" section to the command's --help. */
export function examples(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

/** A parser for a whole number ≥ min, for commander options and arguments. */
export function integerArg(what: string, min = 1): (value: string) => number {
  return (value) => {
    if (!/^\d{1,15}$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`${what} must be a whole number of at least ${min}.`);
    return Number(value);
  };
}

/** A numeric id, or a name to look up among `items`, with an error that names the list command. */
export function resolveByIdOrName<T extends { id: number }>(items: T[], ref: string, nameOf: (item: T) => string, what: string, listCommand: string): T {
  const byId = /^\d+$/.test(ref) ? items.find((i) => i.id === Number(ref)) : undefined;
  const found = byId ?? items.find((i) => nameOf(i) === ref);
  if (!found) throw new CliError(`no ${what} "${ref}" in your account: see ${listCommand}`);
  return found;
}
