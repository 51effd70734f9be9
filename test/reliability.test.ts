import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { run } from './helpers/run.js';
import { selectOneLatencies } from './helpers/latency.js';
import { peakWhile, spawnServer, type ServerProcess } from './helpers/server-process.js';

// The server must survive any one statement or client, with memory bounded by bytes: each case is
// a reproduction from the reliability issue, run against `aiduck serve` as its own process.

let server: ServerProcess;

beforeAll(async () => {
  server = await spawnServer({ AIDUCK_THREADS: '2' });
});
afterAll(async () => {
  await server?.stop();
});

const client = async (port: number): Promise<pg.Client> => {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'aiduck', database: 'aiduck' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
};

describe('output in bounded pieces', () => {
  it('COPY of 5,000 rows of 100 kB streams to psql in bounded memory while other sessions answer', async () => {
    const other = await client(server.port);
    const before = server.rssMb();
    const copy = run('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-c',
      "COPY (SELECT repeat('x', 100000) FROM range(5000)) TO STDOUT"], { stdoutBytesOnly: true });
    const [peak, latencies, result] = await Promise.all([peakWhile(copy, () => server.rssMb()), selectOneLatencies(other, copy), copy]);
    expect(result.status).toBe(0);
    expect(result.stdoutBytes).toBe(5000 * 100_001);
    // 500 MB went out; the server held a DuckDB chunk (2,048 rows, 200 MB) and pieces of its text.
    expect(peak - before).toBeLessThan(1500);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    await other.end();
  });

  it('a client that stops reading a 2 GB result leaves the server\'s memory bounded and other sessions answering', async () => {
    const other = await client(server.port);
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await new Promise((r) => setTimeout(r, 300));
    const before = server.rssMb();
    socket.write(serialize.query("SELECT repeat('x', 100000) FROM range(20000)"));
    // The client never reads: the socket's receive buffer fills and the server must stop producing.
    socket.pause();
    const wait = new Promise((r) => setTimeout(r, 4000));
    const [peak, latencies] = await Promise.all([peakWhile(wait, () => server.rssMb()), selectOneLatencies(other, wait)]);
    expect(peak - before).toBeLessThan(800);
    expect(Math.max(...latencies)).toBeLessThan(500);
    socket.destroy();
    await other.end();
  });

  it('a cancel never reports a committed INSERT as cancelled: the rows that stay are exactly those of the INSERTs that succeeded', async () => {
    const c = await client(server.port);
    await c.query('CREATE TABLE cancel_target (i BIGINT)');
    const cancel = (victim: pg.Client): void => {
      const k = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
      (k as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    };
    let succeeded = 0;
    let cancelled = 0;
    for (let k = 0; k < 24; k++) {
      const insert = c.query('INSERT INTO cancel_target SELECT range FROM range(200000)').then(() => 'ok', (e: { code?: string }) => e.code);
      // Cancels land before, during and just after the statement ends.
      await new Promise((r) => setTimeout(r, (k % 8) * 15));
      cancel(c);
      const outcome = await insert;
      if (outcome === 'ok') succeeded++;
      else if (outcome === '57014') cancelled++;
      else throw new Error(`unexpected outcome ${String(outcome)}`);
      await new Promise((r) => setTimeout(r, 50)); // a late cancel must not hit the next INSERT
    }
    const rows = Number((await c.query('SELECT count(*) AS n FROM cancel_target')).rows[0].n);
    expect(rows).toBe(succeeded * 200000);
    expect(succeeded + cancelled).toBe(24);
    await c.end();
  });

  it('a cursor over a 2 GB result answers FETCH from DuckDB\'s stream, without reading the result first', async () => {
    const c = await client(server.port);
    const before = server.rssMb();
    await c.query('BEGIN');
    await c.query("DECLARE big CURSOR FOR SELECT i, repeat('x', 1000) AS pad FROM range(2000000) AS r(i)");
    const fetches = (async (): Promise<number[]> => {
      const firsts: number[] = [];
      for (let k = 0; k < 20; k++) firsts.push(Number((await c.query('FETCH 1000 FROM big')).rows[0].i));
      return firsts;
    })();
    const [peak, firsts] = await Promise.all([peakWhile(fetches, () => server.rssMb()), fetches]);
    expect(firsts).toEqual(Array.from({ length: 20 }, (_, k) => k * 1000));
    // 20 MB fetched of 2 GB: the server holds a chunk or two, not the result.
    expect(peak - before).toBeLessThan(400);
    expect((await c.query('MOVE FORWARD ALL IN big')).rowCount).toBe(2_000_000 - 20_000);
    await c.query('COMMIT');
    await c.end();
  });
});

describe('the engine thread', () => {
  it('when it dies (out of heap), the client gets a FATAL error and the server exits with 70 for a supervisor to restart it', async () => {
    const fragile = await spawnServer({ AIDUCK_ENGINE_HEAP_MB: '64' });
    try {
      const c = await client(fragile.port);
      const err = await c.query("SELECT list(repeat('x', 1000)) FROM range(300000)").then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: '57P01' });
      expect(await fragile.exited).toBe(70);
      expect(fragile.output()).toMatch(/exiting because the engine thread stopped/);
    } finally {
      await fragile.stop();
    }
  });
});
