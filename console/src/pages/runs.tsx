import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Experiment, ExperimentsResponse, Run, RunsResponse } from '../../../src/console/api-types.js';
import { describeError, getJson } from '../api.js';
import { formatDuration, formatNumber, formatTime } from '../format.js';
import { compareRuns, parseFilter, runColumns, runLabel, sameInEveryRun, type SortKey } from '../run-table.js';
import { Comparison } from './run-comparison.js';

/** The SQL the empty page offers: it records a run from any SQL client. */
export const FIRST_RUN_SQL = "SELECT run_id FROM log_run('my-experiment', name => 'first run', params => MAP {'model': 'embedder'}, metrics => MAP {'ndcg_at_3': 0.71});";

/**
 * Experiment tracking (ai.experiments, ai.runs, ai.run_metrics): the experiments, the runs of the one
 * selected in a sortable, filterable table of parameters and metrics, and the runs picked for a
 * comparison: their curves on one chart, their final metrics as grouped bars.
 */
export function RunsPage({ experiment }: { experiment: string | null }) {
  const [data, setData] = useState<ExperimentsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    getJson<ExperimentsResponse>('/api/runs/experiments').then(setData, (e: unknown) => setError(describeError(e)));
  }, [reloads]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">Loading runs…</p>;
  const withRuns = data.experiments.filter((e) => e.runs > 0);
  if (!withRuns.length) {
    return (
      <section class="runs-empty empty" data-state="no-runs">
        <h1>Runs</h1>
        <p><strong>No run has been recorded.</strong></p>
        <p>
          Every <code>train_lora</code> and <code>fit_classifier</code> records a run, and so does <code>evaluate_retriever(…, aggregate =&gt; true,
          experiment =&gt; 'rag')</code>. To record one of your own from any SQL client:
        </p>
        <pre class="sql-snippet">{FIRST_RUN_SQL}</pre>
        <button onClick={() => setReloads((n) => n + 1)}>Look again</button>
      </section>
    );
  }
  const current = withRuns.find((e) => e.name === experiment) ?? withRuns[0]!;
  return (
    <div class="runs">
      <aside class="experiment-list" aria-label="Experiments">
        <h2>Experiments <small>{withRuns.length}</small></h2>
        <ul>
          {withRuns.map((e) => <ExperimentItem key={e.name} e={e} active={e === current} />)}
        </ul>
      </aside>
      <ExperimentRuns key={`${current.name} ${reloads}`} experiment={current} onReload={() => setReloads((n) => n + 1)} />
    </div>
  );
}

function ExperimentItem({ e, active }: { e: Experiment; active: boolean }) {
  return (
    <li class={active ? 'active' : ''}>
      <a href={`#/runs/${encodeURIComponent(e.name)}`} data-experiment={e.name}>
        <strong>{e.name}</strong>
        <span class="muted">{e.runs} run{e.runs === 1 ? '' : 's'} · last {formatTime(e.lastStart)}</span>
        {e.running > 0 && <span class="chips"><span class="status running">{e.running} running</span></span>}
      </a>
    </li>
  );
}

function ExperimentRuns({ experiment, onReload }: { experiment: Experiment; onReload: () => void }) {
  const [data, setData] = useState<RunsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: { kind: 'run', field: 'startTime' }, desc: true });
  const [selected, setSelected] = useState<string[]>([]);
  const [showDetails, setShowDetails] = useState(false);
  const [differingOnly, setDifferingOnly] = useState(false);
  useEffect(() => {
    getJson<RunsResponse>(`/api/runs?experiment=${encodeURIComponent(experiment.name)}`).then(setData, (e: unknown) => setError(describeError(e)));
  }, [experiment.name]);
  const runs = data?.runs ?? [];
  const columns = useMemo(() => runColumns(runs), [data]);
  const same = useMemo(() => sameInEveryRun(runs, columns.params), [data]);
  const parsed = useMemo(() => parseFilter(filter, columns), [filter, columns]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">Loading…</p>;

  const paramKeys = columns.params.filter((k) => !differingOnly || !same.has(k));
  const metricKeys = columns.metrics.filter((k) => showDetails || !columns.details.has(k));
  const shown = runs.filter(parsed.test).sort((a, b) => compareRuns(a, b, sort.key, sort.desc));
  // In the table's order, those the filter hides included.
  const compared = runs.filter((r) => selected.includes(r.runId)).sort((a, b) => compareRuns(a, b, sort.key, sort.desc));
  const toggle = (id: string): void => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const allShownSelected = shown.length > 0 && shown.every((r) => selected.includes(r.runId));
  const selectShown = (): void => setSelected(allShownSelected
    ? selected.filter((id) => !shown.some((r) => r.runId === id))
    : [...new Set([...selected, ...shown.map((r) => r.runId)])]);
  const header = (label: string, key: SortKey, cls = '') => {
    const active = sort.key.kind === key.kind && sort.key.field === key.field;
    return (
      <th key={`${key.kind}:${key.field}`} class={cls} data-sort-key={`${key.kind}:${key.field}`} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
        <button class="link" onClick={() => setSort({ key, desc: active ? !sort.desc : false })}>{label}{active ? (sort.desc ? ' ▾' : ' ▴') : ''}</button>
      </th>
    );
  };
  return (
    <section class="experiment" data-experiment={experiment.name}>
      <header>
        <h1>{experiment.name}</h1>
        <p class="muted">
          {experiment.runs} run{experiment.runs === 1 ? '' : 's'} · created {formatTime(experiment.createdAt)} ·{' '}
          <code>SELECT * FROM ai.runs WHERE experiment = '{experiment.name.replaceAll("'", "''")}'</code>
        </p>
      </header>
      <div class="toolbar">
        <label>Filter <input type="search" name="run-filter" size={34} value={filter} placeholder="ndcg_at_3>0.5 model=emb/1 status=finished"
          onInput={(e) => setFilter(e.currentTarget.value)} /></label>
        {columns.details.size > 0 && (
          <label class="check"><input type="checkbox" name="show-details" checked={showDetails} onChange={() => setShowDetails(!showDetails)} /> show /variance, /p90</label>
        )}
        {columns.params.length > 0 && runs.length > 1 && (
          <label class="check"><input type="checkbox" name="differing-only" checked={differingOnly} onChange={() => setDifferingOnly(!differingOnly)} /> only parameters that differ</label>
        )}
        <span class="muted count">{shown.length} of {runs.length} runs{data.truncated ? ' (the latest; more are in ai.runs)' : ''}</span>
        <button onClick={onReload}>Reload</button>
      </div>
      {parsed.unknownKeys.length > 0 && (
        <p class="notice filter-notice">No parameter or metric is called {parsed.unknownKeys.map((k) => `“${k}”`).join(', ')} in this experiment.</p>
      )}
      <div class="table-scroll">
        <table class="grid runs-table">
          <thead>
            <tr class="groups">
              <th colSpan={4} />
              {metricKeys.length > 0 && <th colSpan={metricKeys.length} class="group metric">metrics</th>}
              {paramKeys.length > 0 && <th colSpan={paramKeys.length} class="group param">parameters</th>}
              <th colSpan={3} />
            </tr>
            <tr>
              <th><input type="checkbox" aria-label="compare every run shown" checked={allShownSelected} onChange={selectShown} /></th>
              {header('run', { kind: 'run', field: 'name' })}
              {header('status', { kind: 'run', field: 'status' })}
              {header('started', { kind: 'run', field: 'startTime' })}
              {metricKeys.map((k) => header(k, { kind: 'metric', field: k }, 'metric num'))}
              {paramKeys.map((k) => header(k, { kind: 'param', field: k }, 'param'))}
              {header('duration', { kind: 'run', field: 'duration' })}
              {header('source', { kind: 'run', field: 'source' })}
              <th>produced</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <RunRow key={r.runId} r={r} paramKeys={paramKeys} metricKeys={metricKeys} selected={selected.includes(r.runId)} onToggle={() => toggle(r.runId)} />
            ))}
          </tbody>
        </table>
      </div>
      {compared.length > 0
        ? <Comparison runs={compared} metricKeys={metricKeys} onClear={() => setSelected([])} />
        : <p class="muted">Tick runs to compare them: their curves on one chart, their final metrics side by side.</p>}
    </section>
  );
}

function RunRow({ r, paramKeys, metricKeys, selected, onToggle }: { r: Run; paramKeys: string[]; metricKeys: string[]; selected: boolean; onToggle: () => void }) {
  return (
    <tr data-run={r.runId} class={selected ? 'selected' : ''}>
      <td><input type="checkbox" aria-label={`compare ${runLabel(r)}`} checked={selected} onChange={onToggle} /></td>
      <td class="run-name" title={r.statement ?? ''}>{runLabel(r)}<br /><small class="mono">{r.runId.slice(0, 12)}</small></td>
      <td><span class={`status ${r.status}`} title={r.error ?? ''}>{r.status}</span></td>
      <td class="time">{formatTime(r.startTime)}</td>
      {metricKeys.map((k) => {
        const v = r.metrics[k];
        return <td key={k} class="num metric" data-metric={k} data-value={v === undefined ? undefined : String(v)} title={v === undefined ? '' : String(v)}>{v === undefined ? '' : formatNumber(v)}</td>;
      })}
      {paramKeys.map((k) => {
        const v = r.params[k];
        return <td key={k} class="param" data-param={k} title={v ?? ''}>{v ?? ''}</td>;
      })}
      <td class="time">{r.endTime ? formatDuration(Date.parse(r.endTime) - Date.parse(r.startTime)) : '—'}</td>
      <td>{r.source}</td>
      <td>{r.modelName ? <a href={`#/models/${encodeURIComponent(r.modelName)}`}>{r.modelName}/{r.modelVersion}</a> : '—'}</td>
    </tr>
  );
}
