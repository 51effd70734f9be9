// The node-postgres side of bench/driver-bulk-insert.mjs, in a process of its own (the bench process
// hosts the aiduck server): ROWS parameterized INSERTs of (id, 'name <id>') into the existing table
// `bulk`, one after the other inside one transaction; prints JSON with the seconds they took.
//
//   node bench/driver-bulk-insert-node.mjs HOST PORT USER DATABASE ROWS
import pg from 'pg';

const [host, port, user, database, rows] = process.argv.slice(2);
const client = new pg.Client({ host, port: Number(port), user, database });
await client.connect();
const started = process.hrtime.bigint();
await client.query('BEGIN');
for (let i = 1; i <= Number(rows); i++) await client.query('INSERT INTO bulk (id, name) VALUES ($1, $2)', [i, `name ${i}`]);
await client.query('COMMIT');
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await client.end();
console.log(JSON.stringify({ seconds }));
