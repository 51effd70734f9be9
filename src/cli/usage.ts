/** What `aiduck --help` and `aiduck <command> --help` print. */
import { DEFAULTS } from '../server/config.js';
import { TEST_MODELS } from '../testmodels/index.js';
import { VERSION } from '../package.js';

const serverOptions = `options (environment variable in brackets):
  --host <addr>              listen address [AIDUCK_HOST] (default ${DEFAULTS.host})
  --port <n>                 port [AIDUCK_PORT] (default ${DEFAULTS.port})
  --http-port <n>            the web console's port on the same host [AIDUCK_HTTP_PORT] (default ${DEFAULTS.httpPort})
  --no-http                  do not serve the web console [AIDUCK_NO_HTTP=1]
  --data <dir>               data directory [AIDUCK_DATA] (default ./${DEFAULTS.dataDir})
  --memory                   keep the database in memory instead of <data>/aiduck.duckdb [AIDUCK_MEMORY=1]
  --user <name>              user name for password logins [AIDUCK_USER] (default ${DEFAULTS.user})
  --password <pw>            require SCRAM-SHA-256 with this password [AIDUCK_PASSWORD]
  --tls-cert <file>          PEM certificate: answer SSLRequest with TLS [AIDUCK_TLS_CERT]
  --tls-key <file>           PEM private key [AIDUCK_TLS_KEY]
  --import-dir <dir>         also let SQL read files here (repeatable) [AIDUCK_IMPORT_DIRS, ':'-separated]
  --allow-key-env <VAR>      let endpoints' api_key_env name VAR (repeatable); AIDUCK_KEY_* are always
                             allowed, aiduck's own variables never [AIDUCK_ALLOWED_KEY_ENVS, ','-separated]
  --max-connections <n>      (default ${DEFAULTS.maxConnections}) [AIDUCK_MAX_CONNECTIONS]
  --max-message-mb <n>       largest protocol message accepted (default ${DEFAULTS.maxMessageBytes / 1024 / 1024})
  --max-pending-logins <n>   connections still logging in, apart from --max-connections; when full, a new
                             one ends the oldest login (default ${DEFAULTS.maxPendingLogins}) [AIDUCK_MAX_PENDING_LOGINS]
  --auth-timeout <s>         seconds a client may take to log in (default ${DEFAULTS.authTimeoutMs / 1000}) [AIDUCK_AUTH_TIMEOUT]
  --threads <n>              DuckDB threads (default: one per core) [AIDUCK_THREADS]
  --memory-limit <size>      DuckDB memory limit, e.g. 8GB [AIDUCK_MEMORY_LIMIT]
  -h, --help                 this help`;

const testModels = (): string => TEST_MODELS
  .map((m) => `  ${m.name.padEnd(21)} ${m.summary}\n  ${''.padEnd(21)} tasks: ${m.tasks.join(', ')}; register it as e.g. '${m.registerAs}'`)
  .join('\n');

export const COMMANDS = ['serve', 'sql', 'init', 'testmodels'] as const;
export type Command = (typeof COMMANDS)[number];

export function commandUsage(command: Command): string {
  switch (command) {
    case 'serve':
      return `usage: aiduck serve [options]

Runs the server: the database <data>/aiduck.duckdb behind the Postgres wire protocol. Connect with any
Postgres client, e.g. psql -h ${DEFAULTS.host} -p ${DEFAULTS.port} -U ${DEFAULTS.user} -d aiduck.
While it runs, <data>/server.json tells \`aiduck sql\` where it listens.

${serverOptions}
`;
    case 'sql':
      return `usage: aiduck sql [options] [-f file.sql]... [-c 'statement;']...

An SQL shell on the database of <data>. It connects to the server that serves that data directory
(found through <data>/server.json, written by \`aiduck serve\`), else to --host/--port, and when no
server runs it opens the database itself. With -f and -c it runs the scripts and statements in order
and stops at the first error (exit status 1); with neither it reads statements from standard input
(interactively on a terminal). psql meta-commands (\\copy, \\if, \\set, ...) need psql:
  psql -h ${DEFAULTS.host} -p ${DEFAULTS.port} -U ${DEFAULTS.user} -d aiduck -f examples/quickstart.sql

  -f, --file <file>          run the statements of this file (repeatable)
  -c, --command <sql>        run these statements (repeatable)
${serverOptions}
`;
    case 'init':
      return `usage: aiduck init [--data <dir>]

Prepares a data directory for the README and the examples: small sample data under
<data>/files/samples (reviews.csv, reviews.parquet) and the generated test models under
<data>/files/testmodels (see aiduck testmodels --help). Safe to run again: it rewrites the same files.

  --data <dir>               data directory [AIDUCK_DATA] (default ./${DEFAULTS.dataDir})
  -h, --help                 this help
`;
    case 'testmodels':
      return `usage: aiduck testmodels [dir] [--data <dir>]

Writes small generated models in Hugging Face layout, with real tokenizers, into dir (default
<data>/files/testmodels, where SQL can register them as 'file:testmodels/<model>'). They are
random-weight toys for trying the SQL without a download, not useful models:

${testModels()}

  --data <dir>               data directory [AIDUCK_DATA] (default ./${DEFAULTS.dataDir})
  -h, --help                 this help
`;
  }
}

export function generalUsage(): string {
  return `aiduck ${VERSION}: DuckDB behind the Postgres wire protocol, with models in SQL

usage:
  aiduck serve [options]     run the server (what \`npm start\` runs)
  aiduck sql [options]       an SQL shell on the same database; -f file.sql runs a script
  aiduck init                write sample data and the test models into the data directory
  aiduck testmodels [dir]    write the test models only
  aiduck help <command>      the options of a command (or: aiduck <command> --help)
  aiduck --version

test models (aiduck init, aiduck testmodels):
${testModels()}
`;
}
