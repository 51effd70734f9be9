import type pg from 'pg';

/**
 * Times `SELECT 1` on `client` again and again until `job` settles (whether it succeeds or not),
 * pausing `pauseMs` between probes; `each` runs after every probe. Returns the latencies in ms.
 */
export async function selectOneLatencies(client: pg.Client, job: Promise<unknown>, pauseMs = 20,
  each?: () => Promise<void>): Promise<number[]> {
  let done = false;
  job.then(() => { done = true; }, () => { done = true; });
  const latencies: number[] = [];
  while (!done) {
    const t0 = performance.now();
    await client.query('SELECT 1');
    latencies.push(performance.now() - t0);
    await each?.();
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return latencies;
}
