import type { MetricPoint } from '../../src/console/api-types.js';
import { naturalCompare } from './run-table.js';

/** One line of the curves chart: a metric of a run. */
export interface CurveSeries {
  runId: string;
  key: string;
  /** Drawn at the optimizer step that ended each epoch (see curveSeries). */
  perEpoch: boolean;
  points: Array<{ x: number; y: number }>;
}

/** train_lora's record of the optimizer steps taken by the end of each epoch (its step is the epoch). */
const EPOCH_STEPS = 'epoch_steps';

type ByRun = Map<string, Map<string, MetricPoint[]>>;

function byRunAndKey(points: readonly MetricPoint[]): ByRun {
  const runs: ByRun = new Map();
  for (const p of points) {
    const keys = runs.get(p.runId) ?? new Map<string, MetricPoint[]>();
    runs.set(p.runId, keys);
    const series = keys.get(p.key) ?? [];
    keys.set(p.key, series);
    series.push(p);
  }
  return runs;
}

/** The metrics that have a curve: logged at more than one step in one of the runs. */
export function steppedKeys(points: readonly MetricPoint[]): string[] {
  const keys = new Set<string>();
  for (const metrics of byRunAndKey(points).values()) {
    for (const [key, ps] of metrics) if (new Set(ps.map((p) => p.step)).size > 1) keys.add(key);
  }
  return [...keys].sort(naturalCompare);
}

/**
 * The curves of `keys` for each run, in the runs' order. A run that records `epoch_steps`
 * (train_lora) has per-epoch metrics — those logged at exactly the epochs `epoch_steps` is logged at:
 * `epoch_train_loss`, `epoch_eval_loss`, … — and they are drawn at the optimizer step that ended their
 * epoch, so the loss per step and the losses per epoch share one x axis. Any other metric is drawn
 * at the step it was logged at.
 */
export function curveSeries(points: readonly MetricPoint[], runIds: readonly string[], keys: readonly string[]): CurveSeries[] {
  const runs = byRunAndKey(points);
  return runIds.flatMap((runId) => {
    const metrics = runs.get(runId);
    if (!metrics) return [];
    const epochEnds = new Map((metrics.get(EPOCH_STEPS) ?? []).map((p) => [p.step, p.value]));
    return keys.flatMap((key): CurveSeries[] => {
      const ps = metrics.get(key);
      if (!ps) return [];
      const perEpoch = epochEnds.size > 0 && ps.length === epochEnds.size && ps.every((p) => epochEnds.has(p.step));
      return [{ runId, key, perEpoch, points: ps.map((p) => ({ x: perEpoch ? epochEnds.get(p.step)! : p.step, y: p.value })) }];
    });
  });
}
