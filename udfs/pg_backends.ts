import { BOOLEAN, INTEGER, TIMESTAMPTZ, VARCHAR, type DuckDBTableFunction } from '@duckdb/node-api';
import { snapshotTable, timestampTZ, type SnapshotColumn } from '../src/functions/snapshot-table.js';
import { columnValues, type BatchFunction } from '../src/functions/batch-function.js';
import type { AiContext, BackendActivity } from '../src/functions/context.js';
import type { SqlFunction } from '../src/functions/sql-function.js';

/*
 * The sessions of this server as Postgres shows and controls them: pg_stat_activity (a view over
 * aiduck_stat_activity(), made with the Postgres catalog), pg_cancel_backend and pg_terminate_backend.
 * One user owns every session, so any session may see and stop any other, as a superuser can.
 */

/** pg_stat_activity's columns (Postgres 15), as far as they mean something here. */
const COLUMNS: Array<SnapshotColumn<BackendActivity>> = [
  { name: 'datname', type: VARCHAR, value: () => 'aiduck' },
  { name: 'pid', type: INTEGER, value: (a) => a.pid },
  { name: 'leader_pid', type: INTEGER, value: () => null },
  { name: 'usename', type: VARCHAR, value: (a) => a.user },
  { name: 'application_name', type: VARCHAR, value: (a) => a.applicationName },
  { name: 'client_addr', type: VARCHAR, value: (a) => a.clientAddr },
  { name: 'client_hostname', type: VARCHAR, value: () => null },
  { name: 'client_port', type: INTEGER, value: (a) => a.clientPort ?? -1 },
  { name: 'backend_start', type: TIMESTAMPTZ, value: (a) => timestampTZ(a.backendStart) },
  { name: 'xact_start', type: TIMESTAMPTZ, value: (a) => timestampTZ(a.xactStart) },
  { name: 'query_start', type: TIMESTAMPTZ, value: (a) => timestampTZ(a.queryStart) },
  { name: 'state_change', type: TIMESTAMPTZ, value: (a) => timestampTZ(a.stateChange) },
  { name: 'wait_event_type', type: VARCHAR, value: () => null },
  { name: 'wait_event', type: VARCHAR, value: () => null },
  { name: 'state', type: VARCHAR, value: (a) => a.state },
  { name: 'query', type: VARCHAR, value: (a) => a.query },
  { name: 'backend_type', type: VARCHAR, value: () => 'client backend' },
];

const activityTable = (ai: AiContext): DuckDBTableFunction =>
  snapshotTable('aiduck_stat_activity', COLUMNS, () => [...ai.backends.values()].map((b) => b.activity()).sort((x, y) => x.pid - y.pid));

/** A kernel that does `act` to the session of each pid: true when there is one, false (as Postgres, with no error) when not. */
const backendAction = (name: string, act: 'cancel' | 'terminate') => (ai: AiContext): BatchFunction => ({
  name,
  parameterTypes: [INTEGER],
  returnType: BOOLEAN,
  run(input, output) {
    const pids = columnValues(input, 0);
    pids.forEach((pid, i) => {
      const backend = pid === null ? undefined : ai.backends.get(Number(pid));
      if (backend) backend[act]();
      output.setItem(i, pid === null ? null : backend !== undefined);
    });
    output.flush();
  },
});

/** pg_notify(channel, payload): NOTIFY from a query; sent when the calling session's transaction commits. */
const notifyKernel = (ai: AiContext): BatchFunction => ({
  name: 'pg_notify',
  parameterTypes: [VARCHAR, VARCHAR],
  returnType: VARCHAR,
  run(input, output, caller) {
    const channels = columnValues(input, 0);
    const payloads = columnValues(input, 1);
    channels.forEach((channel, i) => {
      if (channel !== null) ai.backends.get(caller.sid)?.notify(String(channel), payloads[i] === null ? '' : String(payloads[i]));
      output.setItem(i, null);
    });
    output.flush();
  },
});

export const pgNotify: SqlFunction = {
  name: 'pg_notify',
  kind: 'scalar',
  description: 'NOTIFY channel, payload from a query: the sessions that LISTEN on the channel get it when this transaction commits',
  example: "SELECT pg_notify('jobs', 'embeddings done');",
  kernels: [notifyKernel],
};

export const pgStatActivity: SqlFunction = {
  name: 'aiduck_stat_activity',
  kind: 'table',
  description: 'the sessions of this server, as the view pg_stat_activity shows them: pid, user, application, client, state, the query running or the last one',
  example: "SELECT pid, application_name, state, query FROM pg_stat_activity;",
  tableFunction: activityTable,
};

export const pgCancelBackend: SqlFunction = {
  name: 'pg_cancel_backend',
  kind: 'scalar',
  description: 'cancels the statement the session with this pid runs (57014 on its side); false when there is no such session',
  example: "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid();",
  kernels: [backendAction('pg_cancel_backend', 'cancel')],
};

export const pgTerminateBackend: SqlFunction = {
  name: 'pg_terminate_backend',
  kind: 'scalar',
  description: 'ends the session with this pid (its client gets FATAL 57P01); false when there is no such session',
  example: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'stuck-job';",
  kernels: [backendAction('pg_terminate_backend', 'terminate')],
};
