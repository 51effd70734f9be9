import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { CurvesResponse, Run } from '../../../src/console/api-types.js';
import { describeError, postJson } from '../api.js';
import { ChartView, PALETTE } from '../chart.js';
import { curveSeries, steppedKeys } from '../run-curves.js';
import { runLabel } from '../run-table.js';

/** Line styles that tell a run's metrics apart on the curves chart (its colour tells the runs apart). */
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 6]];
const colour = (i: number): string => PALETTE[i % PALETTE.length]!;

interface Props {
  runs: Run[];
  /** The metrics the table shows (the /variance and /p90 details only when it does). */
  metricKeys: string[];
  onClear(): void;
}

/**
 * The runs picked in the table, side by side: the metrics they logged at several steps as curves on
 * one chart (the losses unless the user picks others), and the metrics they logged once as grouped
 * bars, a group per metric and a bar per run.
 */
export function Comparison({ runs, metricKeys, onClear }: Props) {
  const [curves, setCurves] = useState<CurvesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pickedCurves, setPickedCurves] = useState<string[] | null>(null);
  const [pickedBars, setPickedBars] = useState<string[] | null>(null);
  const ids = runs.map((r) => r.runId);
  useEffect(() => {
    setError(null);
    postJson<CurvesResponse>('/api/runs/curves', { runIds: ids }).then(setCurves, (e: unknown) => setError(describeError(e)));
  }, [ids.join()]);
  const stepped = useMemo(() => steppedKeys(curves?.points ?? []), [curves]);
  const losses = stepped.filter((k) => /loss/.test(k));
  const curveKeys = (pickedCurves ?? (losses.length ? losses : stepped.slice(0, 1))).filter((k) => stepped.includes(k));
  const barCandidates = metricKeys.filter((k) => runs.some((r) => r.metrics[k] !== undefined));
  const barKeys = (pickedBars ?? barCandidates.filter((k) => !stepped.includes(k))).filter((k) => barCandidates.includes(k));
  const pick = (list: string[], key: string, set: (keys: string[]) => void): void => set(list.includes(key) ? list.filter((k) => k !== key) : [...list, key]);

  const curveConfig = useMemo((): ChartConfiguration => {
    const series = curveSeries(curves?.points ?? [], ids, curveKeys);
    const perEpoch = series.some((s) => s.perEpoch);
    return {
      type: 'line',
      data: {
        datasets: series.map((s) => {
          const run = ids.indexOf(s.runId);
          return {
            label: curveKeys.length > 1 ? `${runLabel(runs[run]!)} · ${s.key}` : runLabel(runs[run]!),
            data: s.points,
            borderColor: colour(run), backgroundColor: colour(run), borderWidth: s.perEpoch ? 2 : 1.5,
            borderDash: DASHES[curveKeys.indexOf(s.key) % DASHES.length]!,
            pointRadius: s.perEpoch ? 3 : s.points.length > 100 ? 0 : 2,
          };
        }),
      },
      options: {
        parsing: false,
        plugins: { legend: { labels: { usePointStyle: true, pointStyle: 'line' } } },
        scales: {
          x: { type: 'linear', title: { display: true, text: perEpoch ? 'optimizer step (per-epoch metrics at the step that ended the epoch)' : 'step' } },
          y: { title: { display: true, text: curveKeys.join(', ') } },
        },
      },
    };
  }, [curves, curveKeys.join(), ids.join()]);

  const barConfig = useMemo((): ChartConfiguration => ({
    type: 'bar',
    data: {
      labels: barKeys,
      datasets: runs.map((r, i) => ({ label: runLabel(r), data: barKeys.map((k) => r.metrics[k] ?? null), backgroundColor: colour(i) })),
    },
    options: { scales: { y: { beginAtZero: true } } },
  }), [ids.join(), barKeys.join()]);

  return (
    <div class="comparison" data-runs={runs.length}>
      <div class="toolbar">
        <h2>Comparing {runs.length} run{runs.length === 1 ? '' : 's'}</h2>
        <span class="chips">{runs.map((r, i) => <span class="chip" key={r.runId}><span class="swatch" style={{ background: colour(i) }} />{runLabel(r)}</span>)}</span>
        <button class="link" onClick={onClear}>clear</button>
      </div>
      {error && <p class="error">{error}</p>}
      {curves?.thinned && <p class="notice">Some curves have more points than the chart draws: every n-th step of those is drawn, with the first and the last.</p>}
      {curves?.truncated && <p class="notice">These runs have more metric points than the chart draws; the first {curves.points.length} are shown.</p>}
      {stepped.length > 0 && (
        <div class="card curves">
          <div class="toolbar"><strong>Curves</strong>
            {stepped.map((k) => (
              <label key={k} class="check"><input type="checkbox" name="curve-key" value={k} checked={curveKeys.includes(k)} onChange={() => pick(curveKeys, k, setPickedCurves)} /> {k}</label>
            ))}
          </div>
          {curveKeys.length > 0 && <ChartView config={curveConfig} label={`${curveKeys.join(' and ')} per step of ${runs.length} runs`} />}
        </div>
      )}
      {barCandidates.length > 0 && (
        <div class="card final-metrics">
          <div class="toolbar"><strong>Final metrics</strong>
            {barCandidates.map((k) => (
              <label key={k} class="check"><input type="checkbox" name="bar-key" value={k} checked={barKeys.includes(k)} onChange={() => pick(barKeys, k, setPickedBars)} /> {k}</label>
            ))}
          </div>
          {barKeys.length > 0
            ? <ChartView config={barConfig} label={`${barKeys.length} final metrics of ${runs.length} runs`} />
            : <p class="muted">These runs' metrics have curves (above); tick metrics to compare their last values as bars.</p>}
        </div>
      )}
      {curves && !stepped.length && !barCandidates.length && <p class="muted">These runs have no metrics.</p>}
    </div>
  );
}
