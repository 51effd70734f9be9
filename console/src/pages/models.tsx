import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { ModelSummary, ModelVersion, ModelsResponse, TrainingRun } from '../../../src/console/api-types.js';
import { describeError, getJson } from '../api.js';
import { ChartView, PALETTE } from '../chart.js';
import { formatInt, formatNumber, formatTime } from '../format.js';
import { derivedFrom, lineageOf, parseUri, preferredRef, usageOf, type LineageStep } from '../model-usage.js';

/** Every registered model; the selected one with its versions, lineage, training run and the SQL to use it. */
export function ModelsPage({ selected }: { selected: string | null }) {
  const [data, setData] = useState<ModelsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<ModelsResponse>('/api/models').then(setData, (e: unknown) => setError(describeError(e)));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">Loading models…</p>;
  if (!data.models.length) {
    return (
      <section class="empty">
        <h2>No model is registered</h2>
        <p>Register one from any SQL client, for example:</p>
        <pre>SELECT * FROM register_model('embedder', '/models/all-MiniLM-L6-v2', alias =&gt; 'champion');</pre>
      </section>
    );
  }
  const current = data.models.find((m) => m.name === selected) ?? data.models[0]!;
  return (
    <div class="models">
      <aside class="model-list" aria-label="Models">
        <h2>Models <small>{data.models.length}</small></h2>
        <ul>
          {data.models.map((m) => (
            <li key={m.name} class={m === current ? 'active' : ''}>
              <a href={`#/models/${encodeURIComponent(m.name)}`} data-model={m.name}>
                <strong>{m.name}</strong>
                <span class="muted">{m.task} · {m.versions} version{m.versions === 1 ? '' : 's'}</span>
                <span class="chips">{Object.entries(m.aliases).map(([a, v]) => <span class="chip" key={a}>{a} → {v}</span>)}</span>
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <ModelDetail model={current} data={data} />
    </div>
  );
}

function ModelDetail({ model, data }: { model: ModelSummary; data: ModelsResponse }) {
  const versions = data.versions.filter((v) => v.name === model.name).sort((a, b) => b.version - a.version);
  const byUri = useMemo(() => new Map(data.versions.map((v) => [v.uri, v])), [data]);
  const runs = useMemo(() => new Map(data.trainingRuns.map((r) => [r.runId, r])), [data]);
  const latest = versions[0]!;
  const ref = preferredRef(model.name, model.aliases);
  const usage = usageOf(model.task, ref, latest.dimension);
  return (
    <section class="model-detail" data-model={model.name}>
      <header>
        <h1>{model.name}</h1>
        <p class="muted">{model.task} · {model.provider} · registered {formatTime(model.createdAt)}</p>
        <p class="chips">
          {Object.entries(model.aliases).map(([a, v]) => <span class="chip alias" key={a}>@{a} → version {v}</span>)}
          {!Object.keys(model.aliases).length && <span class="muted">no aliases: “{model.name}” is the latest version ({model.latestVersion})</span>}
        </p>
      </header>
      <div class="card usage">
        <h3>Use it in SQL</h3>
        <p class="signature"><code>{usage.signature}</code></p>
        <pre class="sql-snippet">{usage.example}</pre>
        <p class="muted">Other references: <code>{model.name}/{model.latestVersion}</code>, <code>models:/{model.name}@alias</code>, <code>{model.name}@latest</code>.</p>
      </div>
      <h3>Versions</h3>
      <table class="grid versions">
        <thead>
          <tr><th>version</th><th>aliases</th><th>source</th><th>task</th><th>provider</th><th>tags</th><th>registered</th></tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-version={v.version}>
              <td>{v.version}</td>
              <td><span class="chips">{v.aliases.map((a) => <span class="chip alias" key={a}>@{a}</span>)}</span></td>
              <td class="mono wrap">{v.source}</td>
              <td>{v.task}{v.dimension ? ` (${v.dimension})` : ''}</td>
              <td>{v.provider}</td>
              <td><span class="chips">{Object.entries(v.tags).map(([k, t]) => <span class="chip tag" key={k}>{k}={t}</span>)}</span></td>
              <td>{formatTime(v.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {versions.map((v) => <VersionCard key={v.version} v={v} all={data.versions} byUri={byUri} runs={runs} />)}
    </section>
  );
}

function VersionCard({ v, all, byUri, runs }: { v: ModelVersion; all: ModelVersion[]; byUri: Map<string, ModelVersion>; runs: Map<string, TrainingRun> }) {
  const lineage = lineageOf(v, byUri);
  const derived = derivedFrom(v, all);
  const run = v.trainingRun ? runs.get(v.trainingRun) ?? null : null;
  return (
    <div class="card version" data-version={v.version}>
      <h3>{v.uri} {v.aliases.map((a) => <span class="chip alias" key={a}>@{a}</span>)}</h3>
      {v.description && <p>{v.description}</p>}
      <dl class="facts">
        <dt>location</dt><dd class="mono wrap">{v.location}</dd>
        {v.artifactDigest && <><dt>artifact</dt><dd class="mono">{v.artifactDigest}</dd></>}
        {v.endpointModel && <><dt>endpoint model</dt><dd>{v.endpointModel}</dd></>}
        {v.apiKeyEnv && <><dt>key variable</dt><dd class="mono">{v.apiKeyEnv}</dd></>}
        {Object.keys(v.options).length > 0 && <><dt>options</dt><dd>{Object.entries(v.options).map(([k, o]) => `${k}=${o}`).join(', ')}</dd></>}
      </dl>
      {(lineage.length > 1 || derived.length > 0 || run) && (
        <div class="lineage" aria-label="Lineage">
          <h4>Lineage</h4>
          {lineage.length > 1 && <ol class="chain">{lineage.map((s, i) => <LineageNode key={s.uri} step={s} first={i === 0} />)}</ol>}
          {derived.length > 0 && (
            <p class="muted">Built on it: {derived.map((d, i) => <span key={d.uri}>{i ? ', ' : ''}<ModelLink uri={d.uri} /> ({d.how})</span>)}</p>
          )}
        </div>
      )}
      {run && <TrainingRunView run={run} />}
    </div>
  );
}

function ModelLink({ uri }: { uri: string }) {
  const parsed = parseUri(uri);
  return parsed ? <a href={`#/models/${encodeURIComponent(parsed[0])}`} class="mono">{uri}</a> : <span class="mono">{uri}</span>;
}

function LineageNode({ step, first }: { step: LineageStep; first: boolean }) {
  return (
    <li class={`node ${step.role}`} data-role={step.role}>
      {!first && <span class="arrow" aria-hidden="true">→</span>}
      <span class="box">
        <span class="role">{step.role === 'this' ? 'model' : step.role}</span>
        <ModelLink uri={step.uri} />
        {step.trainingRun && <span class="muted">trained by run <code>{step.trainingRun}</code></span>}
      </span>
    </li>
  );
}

function TrainingRunView({ run }: { run: TrainingRun }) {
  const lossKeys = ['train_loss', 'eval_loss'].filter((k) => run.epochs.some((e) => typeof e[k] === 'number'));
  const config = useMemo((): ChartConfiguration => ({
    type: 'line',
    data: {
      labels: run.epochs.map((e) => String(e['epoch'])),
      datasets: lossKeys.map((k, i) => ({
        label: k, data: run.epochs.map((e) => (typeof e[k] === 'number' ? (e[k] as number) : null)),
        borderColor: PALETTE[i], backgroundColor: PALETTE[i],
      })),
    },
    options: { scales: { x: { title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: 'loss' } } } },
  }), [run]);
  return (
    <div class="training-run" data-run={run.runId}>
      <h4>Training run <code>{run.runId}</code></h4>
      <dl class="facts">
        <dt>base</dt><dd><ModelLink uri={run.baseModel} /></dd>
        <dt>training data</dt><dd><code>{run.trainingData}</code> ({formatInt(run.trainingRows)} rows)</dd>
        {run.evalData && <><dt>evaluation data</dt><dd><code>{run.evalData}</code> ({formatInt(run.evalRows ?? 0)} rows)</dd></>}
        <dt>losses</dt><dd>train {formatNumber(run.trainLoss)} · eval {formatNumber(run.evalLoss)}</dd>
        <dt>parameters</dt><dd>{formatInt(run.trainableParams)} trainable of {formatInt(run.totalParams)}</dd>
        <dt>ran</dt><dd>{formatTime(run.startedAt)} → {formatTime(run.finishedAt)}</dd>
        <dt>settings</dt><dd class="mono wrap">{Object.entries(run.parameters).map(([k, p]) => `${k}=${JSON.stringify(p)}`).join('  ')}</dd>
      </dl>
      {lossKeys.length > 0 && run.epochs.length > 0 && <ChartView config={config} label={`loss per epoch of run ${run.runId}`} height={200} />}
    </div>
  );
}
