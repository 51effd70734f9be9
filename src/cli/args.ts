import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run as given: printed with a pointer to the command's help, exit status 2. */
export class UsageError extends Error {
  constructor(readonly command: string, message: string) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends Options> = O & { help: { type: 'boolean'; short: 'h' } };
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<O>; strict: true; allowPositionals: boolean; tokens: true }>>;

/**
 * parseArgs with the help flags every command takes, strict about unknown options; its errors
 * become UsageErrors that name the command.
 */
export function parseCommand<O extends Options>(command: string, args: string[], options: O, allowPositionals: boolean): Parsed<O> {
  try {
    const withHelp: WithHelp<O> = { ...options, help: { type: 'boolean', short: 'h' } };
    return parseArgs({ args, options: withHelp, strict: true, allowPositionals, tokens: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown) throw new UsageError(command, `unknown option '${unknown}'`);
    const positional = /Unexpected argument '([^']+)'/.exec(message)?.[1];
    if (positional) throw new UsageError(command, `unexpected argument '${positional}'`);
    throw new UsageError(command, message.replace(/\. To specify .*$/s, ''));
  }
}
