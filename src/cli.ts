import { join, resolve } from 'node:path';
import { startServer } from './server/server.js';
import { runShell, type ShellInput } from './shell.js';
import { VERSION } from './package.js';
import { parseCommand, UsageError } from './cli/args.js';
import { dataDirOf, serverConfig, addressGiven, SERVER_OPTIONS } from './cli/server-options.js';
import { removeServerFile, writeServerFile } from './server/server-file.js';
import { commandUsage, COMMANDS, generalUsage, type Command } from './cli/usage.js';

const isCommand = (c: string | undefined): c is Command => (COMMANDS as readonly string[]).includes(c ?? '');

/** `aiduck testmodels [dir]`: writes the generated models and shows how to register them. */
async function testModelsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('testmodels', args, { data: { type: 'string' } }, true);
  if (values.help) return void process.stdout.write(commandUsage('testmodels'));
  if (positionals.length > 1) throw new UsageError('testmodels', `one folder at most, got ${positionals.length}`);
  const dataDir = dataDirOf(values.data, process.env);
  const dir = resolve(positionals[0] ?? join(dataDir, 'files', 'testmodels'));
  await writeModels(dir, join(dataDir, 'files'));
}

async function writeModels(dir: string, filesDir: string): Promise<void> {
  const { writeTestModels, TEST_MODELS } = await import('./testmodels/index.js');
  const paths = await writeTestModels(dir);
  console.log(`wrote ${paths.length} models to ${dir}`);
  const underFiles = dir.startsWith(filesDir + '/');
  TEST_MODELS.forEach((m, i) => {
    const source = underFiles ? `file:${paths[i]!.slice(filesDir.length + 1)}` : paths[i]!;
    console.log(`  SELECT * FROM register_model('${m.registerAs}', '${source}');  -- ${m.tasks.join(', ')}`);
  });
  if (!underFiles) console.log('(the server reads model folders under <data>/files or an --import-dir)');
}

/** `aiduck init`: sample data and the test models under <data>/files. */
async function initCommand(args: string[]): Promise<void> {
  const { values } = parseCommand('init', args, { data: { type: 'string' } }, false);
  if (values.help) return void process.stdout.write(commandUsage('init'));
  const filesDir = join(dataDirOf(values.data, process.env), 'files');
  const { writeSampleData } = await import('./cli/sample-data.js');
  const samples = await writeSampleData(filesDir);
  console.log(`wrote sample data: ${samples.join(', ')}`);
  await writeModels(join(filesDir, 'testmodels'), filesDir);
  console.log(`
next: start the server (npm start, or node bin/aiduck.js serve), connect (psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck
or node bin/aiduck.js sql) and read the sample data in place:
  CREATE OR REPLACE TABLE reviews AS SELECT * FROM read_csv(data_file('samples/reviews.csv'));`);
}

async function sqlCommand(args: string[]): Promise<void> {
  const { values, tokens } = parseCommand('sql', args, {
    ...SERVER_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true },
    command: { type: 'string', short: 'c', multiple: true },
  }, false);
  if (values.help) return void process.stdout.write(commandUsage('sql'));
  // -f and -c run in the order given on the command line.
  const inputs: ShellInput[] = [];
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value === undefined) continue;
    if (t.name === 'file') inputs.push({ file: t.value });
    else if (t.name === 'command') inputs.push({ sql: t.value });
  }
  await runShell(serverConfig('sql', values, process.env), { inputs, addressGiven: addressGiven(values, process.env) });
}

async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseCommand('serve', args, SERVER_OPTIONS, false);
  if (values.help) return void process.stdout.write(commandUsage('serve'));
  const config = serverConfig('serve', values, process.env);
  const server = await startServer(config);
  const storage = config.storage === 'memory' ? 'in memory' : `${config.dataDir}/aiduck.duckdb`;
  console.log(`aiduck ${VERSION} listening on ${server.host}:${server.port} (database ${storage}; ` +
    `${config.password ? 'SCRAM-SHA-256 password' : 'trust on loopback'}${config.tlsCert ? ', TLS' : ''})`);
  console.log(`connect: psql -h ${server.host} -p ${server.port} -U ${config.user} -d aiduck`);
  if (server.console) console.log(`console: ${server.console.url}`);
  if (server.consoleNotStarted) console.log(`console: not served, ${server.consoleNotStarted}`);
  if (config.storage === 'file') {
    writeServerFile(config.dataDir, { pid: process.pid, host: server.host, port: server.port, user: config.user, version: VERSION });
  }
  const forget = (): void => removeServerFile(config.dataDir, process.pid);
  const stop = (): void => {
    console.log('aiduck: shutting down');
    forget();
    void server.close().then(() => process.exit(0));
  };
  // Without its engine the server can only refuse logins: exit, so that a supervisor restarts it.
  server.engineFailed.then((reason) => {
    console.error(`aiduck: exiting because the engine thread stopped (${reason}); restart the server`);
    forget();
    process.exit(70);
  }, () => undefined);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') return void console.log(VERSION);
  if (command === undefined || command === '--help' || command === '-h') return void process.stdout.write(generalUsage());
  if (command === 'help') {
    const about = rest[0];
    if (about === undefined) return void process.stdout.write(generalUsage());
    if (!isCommand(about)) throw new UsageError('', `unknown command '${about}'`);
    return void process.stdout.write(commandUsage(about));
  }
  switch (command) {
    case 'serve': return serveCommand(rest);
    case 'sql': return sqlCommand(rest);
    case 'init': return initCommand(rest);
    case 'testmodels': return testModelsCommand(rest);
    default: throw new UsageError('', `unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    const help = err.command ? `aiduck ${err.command} --help` : 'aiduck --help';
    const commands = err.command ? '' : `; the commands are ${COMMANDS.join(', ')}`;
    console.error(`aiduck${err.command ? ` ${err.command}` : ''}: ${err.message} (see ${help}${commands})`);
    process.exit(2);
  }
  console.error(`aiduck: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
