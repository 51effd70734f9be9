import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { CurvesResponse, ExperimentsResponse, Run, RunsResponse } from '../../../src/console/api-types.js';
import { describeError, getJson, postJson } from '../api.js';
import { ChartView, PALETTE } from '../chart.js';
import { formatDuration, formatNumber, formatTime } from '../format.js';

/**
 * Experiments and their runs (ai.experiments, ai.runs, ai.run_metrics): a sortable, filterable table
 * of parameters and metrics; the selected runs' curves on one chart and final metrics as grouped bars.
 */
export function RunsPage({ experiment }: { experiment: string | null }) {
  const [data, setData] = useState<ExperimentsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<ExperimentsResponse>('/api/runs/experiments').then(setData, (e: unknown) => setError(describeError(e)));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">Loading runs…</p>;
  if (!data.tracking || !data.experiments.some((e) => e.runs > 0)) {
    return (
      <section class="runs empty" data-state="no-runs">
        <h1>Runs</h1>
        <p><strong>No run has been recorded.</strong></p>
        <p class="muted">
          {data.tracking
            ? 'Runs appear here once a training, an evaluation or log_run records one.'
            : 'This server does not record runs yet: experiment tracking (the ai.experiments, ai.runs and ai.run_metrics views) is not part of it. Training results so far are on the Models page, under each trained version.'}
        </p>
      </section>
    );
  }
  const current = data.experiments.find((e) => e.name === experiment) ?? data.experiments.find((e) => e.runs > 0)!;
  return (
    <section class="runs">
      <h1>Runs</h1>
      <nav class="tabs" aria-label="Experiments">
        {data.experiments.map((e) => (
          <a key={e.experimentId} href={`#/runs/${encodeURIComponent(e.name)}`} class={e === current ? 'active' : ''}>{e.name} <small>{e.runs}</small></a>
        ))}
      </nav>
      <ExperimentRuns key={current.name} experiment={current.name} />
    </section>
  );
}

type SortKey = { kind: 'run'; field: 'name' | 'status' | 'startTime' } | { kind: 'param' | 'metric'; field: string };

function ExperimentRuns({ experiment }: { experiment: string }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: { kind: 'run', field: 'startTime' }, desc: true });
  const [selected, setSelected] = useState<string[]>([]);
  useEffect(() => {
    getJson<RunsResponse>(`/api/runs?experiment=${encodeURIComponent(experiment)}`).then((r) => setRuns(r.runs), (e: unknown) => setError(describeError(e)));
  }, [experiment]);
  const paramKeys = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.params)))].sort(), [runs]);
  const metricKeys = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  if (error) return <p class="error">{error}</p>;
  if (!runs) return <p class="muted">Loading…</p>;
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = runs
    .filter((r) => words.every((w) => [r.name ?? '', r.runId, r.status, r.modelName ?? '', ...Object.entries(r.params).map(([k, v]) => `${k}=${v}`)]
      .some((t) => t.toLowerCase().includes(w))))
    .sort((a, b) => compare(valueOf(a, sort.key), valueOf(b, sort.key)) * (sort.desc ? -1 : 1));
  const header = (label: string, key: SortKey) => {
    const active = sort.key.kind === key.kind && sort.key.field === key.field;
    return (
      <th key={`${key.kind}:${key.field}`} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
        <button class="link" onClick={() => setSort({ key, desc: active ? !sort.desc : false })}>{label}{active ? (sort.desc ? ' ▾' : ' ▴') : ''}</button>
      </th>
    );
  };
  const toggle = (id: string): void => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const compared = runs.filter((r) => selected.includes(r.runId));
  return (
    <div>
      <div class="toolbar">
        <label>Filter <input type="search" value={filter} placeholder="name, status, model or key=value" onInput={(e) => setFilter(e.currentTarget.value)} /></label>
        <span class="muted">{shown.length} of {runs.length} runs · select runs to compare them</span>
      </div>
      <div class="table-scroll">
        <table class="grid runs-table">
          <thead>
            <tr>
              <th />
              {header('run', { kind: 'run', field: 'name' })}
              {header('status', { kind: 'run', field: 'status' })}
              {header('started', { kind: 'run', field: 'startTime' })}
              <th>duration</th><th>produced</th>
              {paramKeys.map((k) => header(k, { kind: 'param', field: k }))}
              {metricKeys.map((k) => header(k, { kind: 'metric', field: k }))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.runId} data-run={r.runId}>
                <td><input type="checkbox" aria-label={`compare ${r.name ?? r.runId}`} checked={selected.includes(r.runId)} onChange={() => toggle(r.runId)} /></td>
                <td title={r.statement ?? ''}>{r.name ?? r.runId}</td>
                <td><span class={`status ${r.status}`}>{r.status}</span></td>
                <td>{formatTime(r.startTime)}</td>
                <td>{r.endTime ? formatDuration(Date.parse(r.endTime) - Date.parse(r.startTime)) : '—'}</td>
                <td>{r.modelName ? `${r.modelName}${r.modelVersion ? `/${r.modelVersion}` : ''}` : '—'}</td>
                {paramKeys.map((k) => <td key={k}>{r.params[k] ?? ''}</td>)}
                {metricKeys.map((k) => <td key={k} class="num">{formatNumber(r.metrics[k])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {compared.length > 0 && <Comparison runs={compared} metricKeys={metricKeys} />}
    </div>
  );
}

function valueOf(r: Run, key: SortKey): string | number | null {
  if (key.kind === 'param') return r.params[key.field] ?? null;
  if (key.kind === 'metric') return r.metrics[key.field] ?? null;
  return key.field === 'name' ? r.name ?? r.runId : key.field === 'status' ? r.status : Date.parse(r.startTime);
}

function compare(a: string | number | null, b: string | number | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

const runLabel = (r: Run): string => r.name ?? r.runId;

/** The selected runs: their metric curves (train and eval loss by default) on one chart, and their final metrics as grouped bars. */
function Comparison({ runs, metricKeys }: { runs: Run[]; metricKeys: string[] }) {
  const [curves, setCurves] = useState<CurvesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[] | null>(null);
  const ids = runs.map((r) => r.runId).join();
  useEffect(() => {
    postJson<CurvesResponse>('/api/runs/curves', { runIds: runs.map((r) => r.runId) }).then(setCurves, (e: unknown) => setError(describeError(e)));
  }, [ids]);
  // Metrics logged at more than one step have curves; the losses are shown until the user picks.
  const stepped = useMemo(() => {
    const counts = new Map<string, number>();
    for (const p of curves?.points ?? []) counts.set(p.key, (counts.get(p.key) ?? 0) + 1);
    return [...counts.entries()].filter(([, n]) => n > runs.length).map(([k]) => k).sort();
  }, [curves]);
  const keys = (picked ?? stepped.filter((k) => /loss/.test(k))).filter((k) => stepped.includes(k));
  const shownKeys = keys.length || picked ? keys : stepped.slice(0, 1);
  const curveConfig = useMemo((): ChartConfiguration => ({
    type: 'line',
    data: {
      datasets: runs.flatMap((r, i) => shownKeys.map((key, k) => ({
        label: shownKeys.length > 1 ? `${runLabel(r)} ${key}` : runLabel(r),
        data: (curves?.points ?? []).filter((p) => p.runId === r.runId && p.key === key).map((p, n) => ({ x: p.step ?? n, y: p.value })),
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 1.5, borderDash: k ? [6, 4] : [],
      }))),
    },
    options: { parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: { title: { display: true, text: shownKeys.join(', ') } } } },
  }), [curves, shownKeys.join(), ids]);
  const toggleKey = (k: string): void => setPicked(shownKeys.includes(k) ? shownKeys.filter((x) => x !== k) : [...shownKeys, k]);
  const barKeys = metricKeys.filter((k) => runs.some((r) => typeof r.metrics[k] === 'number'));
  const barConfig = useMemo((): ChartConfiguration => ({
    type: 'bar',
    data: {
      labels: barKeys,
      datasets: runs.map((r, i) => ({ label: runLabel(r), data: barKeys.map((k) => r.metrics[k] ?? null), backgroundColor: PALETTE[i % PALETTE.length] })),
    },
  }), [ids, barKeys.join()]);
  return (
    <div class="comparison">
      <h2>Comparing {runs.length} run{runs.length === 1 ? '' : 's'}</h2>
      {error && <p class="error">{error}</p>}
      {curves?.truncated && <p class="notice">These runs have more metric points than the chart draws; the first {curves.points.length} are shown.</p>}
      {stepped.length > 0 && (
        <div class="card curves">
          <div class="toolbar"><strong>Curves</strong>
            {stepped.map((k) => <label key={k} class="check"><input type="checkbox" name="curve-key" value={k} checked={shownKeys.includes(k)} onChange={() => toggleKey(k)} /> {k}</label>)}
          </div>
          {shownKeys.length > 0 && <ChartView config={curveConfig} label={`${shownKeys.join(' and ')} per step for ${runs.length} runs`} />}
        </div>
      )}
      {barKeys.length > 0 && (
        <div class="card final-metrics">
          <div class="toolbar"><strong>Final metrics</strong></div>
          <ChartView config={barConfig} label={`final metrics of ${runs.length} runs`} />
        </div>
      )}
    </div>
  );
}
