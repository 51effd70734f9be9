import { expect } from 'vitest';
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

/**
 * Another session was never kept waiting behind a job: waiting would take the job's seconds, while a
 * loaded 2-core machine can delay any one answer by a scheduling slice. So the typical answer is held
 * to 100 ms and the slowest to a second.
 */
export function expectResponsive(latencies: readonly number[], minProbes = 5): void {
  expect(latencies.length).toBeGreaterThanOrEqual(minProbes);
  const sorted = [...latencies].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length / 2)], `median of ${sorted.length} probes`).toBeLessThan(100);
  expect(sorted[sorted.length - 1], 'slowest probe').toBeLessThan(1000);
}
