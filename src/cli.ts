import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { DEFAULTS, type ServerConfig } from './server/config.js';
import { startServer } from './server/server.js';
import { runShell } from './shell.js';
import { VERSION } from './package.js';

const usage = `aiduck ${VERSION}: DuckDB behind the Postgres wire protocol

usage:
  aiduck serve [options]     run the server (what \`npm start\` runs)
  aiduck sql [options]       an interactive SQL shell on the same database
  aiduck testmodels [dir]    write small generated models (BERT embedder, NLI classifier, GPT-2 and T5
                             generators) in Hugging Face layout; default dir <data>/files/testmodels
  aiduck --version

options (environment variable in brackets):
  --host <addr>              listen address [AIDUCK_HOST] (default ${DEFAULTS.host})
  --port <n>                 port [AIDUCK_PORT] (default ${DEFAULTS.port})
  --http-port <n>            the web console's port on the same host [AIDUCK_HTTP_PORT] (default ${DEFAULTS.httpPort})
  --no-http                  do not serve the web console [AIDUCK_NO_HTTP=1]
  --data <dir>               data directory [AIDUCK_DATA] (default ./${DEFAULTS.dataDir})
  --memory                   keep the database in memory instead of <data>/aiduck.duckdb
  --user <name>              user name for password logins [AIDUCK_USER] (default ${DEFAULTS.user})
  --password <pw>            require SCRAM-SHA-256 with this password [AIDUCK_PASSWORD]
  --tls-cert <file>          PEM certificate: answer SSLRequest with TLS [AIDUCK_TLS_CERT]
  --tls-key <file>           PEM private key [AIDUCK_TLS_KEY]
  --import-dir <dir>         also let SQL read files here (repeatable) [AIDUCK_IMPORT_DIRS, ':'-separated]
  --allow-key-env <VAR>      let endpoints' api_key_env name VAR (repeatable); AIDUCK_KEY_* are always
                             allowed, aiduck's own variables never [AIDUCK_ALLOWED_KEY_ENVS, ','-separated]
  --max-connections <n>      (default ${DEFAULTS.maxConnections}) [AIDUCK_MAX_CONNECTIONS]
  --max-message-mb <n>       largest protocol message accepted (default ${DEFAULTS.maxMessageBytes / 1024 / 1024})
  --threads <n>              DuckDB threads (default: one per core) [AIDUCK_THREADS]
  --memory-limit <size>      DuckDB memory limit, e.g. 8GB [AIDUCK_MEMORY_LIMIT]
`;

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

export function configFrom(argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'http-port': { type: 'string' },
      'no-http': { type: 'boolean' },
      data: { type: 'string' },
      memory: { type: 'boolean' },
      user: { type: 'string' },
      password: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'import-dir': { type: 'string', multiple: true },
      'allow-key-env': { type: 'string', multiple: true },
      'max-connections': { type: 'string' },
      'max-message-mb': { type: 'string' },
      threads: { type: 'string' },
      'memory-limit': { type: 'string' },
    },
    strict: true,
  });
  const importDirs = [...(env['AIDUCK_IMPORT_DIRS']?.split(':').filter(Boolean) ?? []), ...(values['import-dir'] ?? [])];
  const password = values.password ?? env['AIDUCK_PASSWORD'];
  const tlsCert = values['tls-cert'] ?? env['AIDUCK_TLS_CERT'];
  const tlsKey = values['tls-key'] ?? env['AIDUCK_TLS_KEY'];
  const threads = positiveInt('--threads', values.threads ?? env['AIDUCK_THREADS'], 0);
  const memoryLimit = values['memory-limit'] ?? env['AIDUCK_MEMORY_LIMIT'];
  const allowedKeyEnvs = [...(env['AIDUCK_ALLOWED_KEY_ENVS']?.split(/[,:]/).map((s) => s.trim()).filter(Boolean) ?? []), ...(values['allow-key-env'] ?? [])];
  const engineHeapMb = positiveInt('AIDUCK_ENGINE_HEAP_MB', env['AIDUCK_ENGINE_HEAP_MB'], 0);
  const noHttp = values['no-http'] || env['AIDUCK_NO_HTTP'] === '1';
  const httpPortGiven = values['http-port'] ?? env['AIDUCK_HTTP_PORT'];
  const httpPort = positiveInt('--http-port', httpPortGiven, DEFAULTS.httpPort);
  return {
    host: values.host ?? env['AIDUCK_HOST'] ?? DEFAULTS.host,
    port: positiveInt('--port', values.port ?? env['AIDUCK_PORT'], DEFAULTS.port),
    ...(noHttp ? {} : { httpPort, ...(httpPortGiven ? {} : { httpPortIsDefault: true }) }),
    dataDir: resolve(values.data ?? env['AIDUCK_DATA'] ?? DEFAULTS.dataDir),
    storage: values.memory || env['AIDUCK_MEMORY'] === '1' ? 'memory' : 'file',
    user: values.user ?? env['AIDUCK_USER'] ?? DEFAULTS.user,
    importDirs: importDirs.map((d) => resolve(d)),
    maxConnections: positiveInt('--max-connections', values['max-connections'] ?? env['AIDUCK_MAX_CONNECTIONS'], DEFAULTS.maxConnections),
    maxMessageBytes: positiveInt('--max-message-mb', values['max-message-mb'], DEFAULTS.maxMessageBytes / 1024 / 1024) * 1024 * 1024,
    ...(password ? { password } : {}),
    ...(tlsCert ? { tlsCert } : {}),
    ...(tlsKey ? { tlsKey } : {}),
    ...(threads ? { threads } : {}),
    ...(memoryLimit ? { memoryLimit } : {}),
    ...(engineHeapMb ? { engineHeapMb } : {}),
    ...(allowedKeyEnvs.length ? { allowedKeyEnvs } : {}),
  };
}

/** `aiduck testmodels [dir]`: writes the generated models and shows how to register them. */
async function writeModelsCommand(args: string[]): Promise<void> {
  const dir = resolve(args[0] ?? join(process.env['AIDUCK_DATA'] ?? DEFAULTS.dataDir, 'files', 'testmodels'));
  const { writeTestModels, TEST_MODELS } = await import('./testmodels/index.js');
  const paths = await writeTestModels(dir);
  console.log(`wrote ${paths.length} models to ${dir}`);
  const registerAs: Record<string, string> = {
    'tiny-bert-embedder': 'embedder', 'tiny-nli-classifier': 'classifier', 'tiny-gpt2-generator': 'generator', 'tiny-t5-summarizer': 'summarizer', 'tiny-llama-chat': 'chat_bot',
  };
  TEST_MODELS.forEach((m, i) => {
    console.log(`  SELECT * FROM register_model('${registerAs[m.name] ?? m.name}', '${paths[i]}');  -- ${m.tasks.join(', ')}`);
  });
  console.log('(the server reads model folders under <data>/files or an --import-dir)');
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === '--version' || command === '-v') {
    console.log(VERSION);
    return;
  }
  if (command === 'testmodels') {
    await writeModelsCommand(rest);
    return;
  }
  if (command !== 'serve' && command !== 'sql') {
    process.stdout.write(usage);
    process.exitCode = command === undefined || command === '--help' || command === '-h' ? 0 : 2;
    return;
  }
  const config = configFrom(rest, process.env);
  if (command === 'sql') {
    await runShell(config);
    return;
  }
  const server = await startServer(config);
  const storage = config.storage === 'memory' ? 'in memory' : `${config.dataDir}/aiduck.duckdb`;
  console.log(`aiduck ${VERSION} listening on ${server.host}:${server.port} (database ${storage}; ` +
    `${config.password ? 'SCRAM-SHA-256 password' : 'trust on loopback'}${config.tlsCert ? ', TLS' : ''})`);
  console.log(`connect: psql -h ${server.host} -p ${server.port} -U ${config.user}`);
  if (server.console) console.log(`console: ${server.console.url}`);
  if (server.consoleNotStarted) console.log(`console: not served, ${server.consoleNotStarted}`);
  const stop = (): void => {
    console.log('aiduck: shutting down');
    void server.close().then(() => process.exit(0));
  };
  // Without its engine the server can only refuse logins: exit, so that a supervisor restarts it.
  server.engineFailed.then((reason) => {
    console.error(`aiduck: exiting because the engine thread stopped (${reason}); restart the server`);
    process.exit(70);
  }, () => undefined);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`aiduck: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
