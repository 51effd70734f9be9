import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from './helpers/run.js';

// A short run of bench/soak.mjs: mutated protocol messages, concurrent CTAS/INSERT/COPY/cancels,
// slow readers and stalled logins against one `aiduck serve`, for 25 seconds.
const soak = fileURLToPath(new URL('../bench/soak.mjs', import.meta.url));

describe('soak', () => {
  it('no crash, no hang, no XX000, bounded memory and no acknowledged row lost', { timeout: 120_000 }, async () => {
    const r = await run(process.execPath, [soak], { env: { SOAK_SECONDS: '25', SOAK_CLIENTS: '4' } });
    const line = r.stdout.split('\n').find((l) => l.startsWith('SOAK_RESULT '));
    expect(line, r.stdout + r.stderr).toBeDefined();
    const result = JSON.parse(line!.slice('SOAK_RESULT '.length)) as Record<string, number>;
    // On a failure, the run's seed (to repeat it with SOAK_SEED) and each client's reconcile lines.
    const output = `${r.stdout}\n${r.stderr}`;
    expect(result['cases'], output).toBeGreaterThan(300);
    expect(result['crashes'], output).toBe(0);
    expect(result['hangs'], output).toBe(0);
    expect(result['xx000'], output).toBe(0);
    expect(result['rowsLost'], output).toBe(0);
    expect(result['rowsExtra'], output).toBe(0);
    expect(result['failedJobs'], output).toBe(0);
    expect(result['peakRssMb'], output).toBeLessThan(2048);
  });
});
