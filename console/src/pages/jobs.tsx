import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { CancelResponse, JobsResponse, RunningJob } from '../../../src/console/api-types.js';
import { describeError, getJson, postJson } from '../api.js';
import { ChartView, PALETTE } from '../chart.js';
import { formatClock, formatDuration, formatInt, formatNumber, formatTime } from '../format.js';

/** How often the page reads ai.running_jobs while it is visible. */
const POLL_MS = 500;
/** Points of rows-done history kept per job for the chart. */
const HISTORY = 240;

type History = Map<string, Array<{ x: number; y: number }>>;
const jobKey = (j: RunningJob): string => `${j.pid} ${j.function}(${j.model}) ${j.startedAt}`;

/** The AI statements and trainings running now, read again every half second, each with a cancel button. */
export function JobsPage() {
  const [data, setData] = useState<JobsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const history = useRef<History>(new Map());
  /** Each running training's loss by optimizer step, as the polls saw it. */
  const losses = useRef<History>(new Map());
  const openedAt = useRef(Date.now());

  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const poll = async (): Promise<void> => {
      try {
        const next = await getJson<JobsResponse>('/api/jobs');
        if (stopped) return;
        const t = (Date.parse(next.at) - openedAt.current) / 1000;
        for (const j of next.jobs) {
          const h = history.current.get(jobKey(j)) ?? [];
          h.push({ x: t, y: j.rowsDone });
          if (h.length > HISTORY) h.shift();
          history.current.set(jobKey(j), h);
          if (j.training) {
            const l = losses.current.get(jobKey(j)) ?? [];
            if (l.at(-1)?.x !== j.training.step) l.push({ x: j.training.step, y: j.training.loss });
            if (l.length > HISTORY) l.shift();
            losses.current.set(jobKey(j), l);
          }
        }
        setData(next);
        setError(null);
      } catch (e) {
        if (!stopped) setError(describeError(e));
      }
      if (!stopped) timer = window.setTimeout(() => void poll(), document.hidden ? POLL_MS * 4 : POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const cancel = async (job: RunningJob): Promise<void> => {
    setCancelling((s) => new Set(s).add(job.pid));
    try {
      const r = await postJson<CancelResponse>('/api/jobs/cancel', { pid: job.pid });
      setMessage(r.cancelled ? `Cancel sent to session ${job.pid}: its statement ends with SQLSTATE 57014.` : `Session ${job.pid} had already finished.`);
    } catch (e) {
      setMessage(describeError(e));
    }
  };

  const running = data?.jobs ?? [];
  const keys = new Set(running.map(jobKey));
  const config = useMemo((): ChartConfiguration => ({
    type: 'line',
    data: {
      datasets: [...history.current.entries()].filter(([k]) => keys.has(k)).map(([k, points], i) => ({
        label: k.replace(/ \S+$/, ''), data: points, borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 0,
      })),
    },
    options: {
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'seconds on this page' } }, y: { beginAtZero: true, title: { display: true, text: 'rows done' } } },
    },
  }), [data]);
  const training = running.filter((j) => j.training);
  const lossConfig = useMemo((): ChartConfiguration => ({
    type: 'line',
    data: {
      datasets: [...losses.current.entries()].filter(([k]) => keys.has(k)).map(([k, points], i) => ({
        label: k.replace(/ \S+$/, ''), data: points, borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 1.5,
      })),
    },
    options: {
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'optimizer step' } }, y: { title: { display: true, text: 'loss of the step' } } },
    },
  }), [data]);

  return (
    <section class="jobs">
      <h1>Jobs <small class="muted">{running.length} running · refreshed every {POLL_MS} ms</small></h1>
      {error && <p class="error">{error}</p>}
      {message && <p class="notice" role="status">{message}</p>}
      {data && !running.length && <p class="empty muted">No AI statement or training is running. Jobs appear here while <code>ai_embed</code>, <code>ai_query</code>, <code>train_lora</code> and the other AI functions run, from any session.</p>}
      {running.length > 0 && (
        <>
          <table class="grid jobs-table">
            <thead>
              <tr>
                <th>session</th><th>function</th><th>model</th><th class="num">rows done</th><th class="num">from cache</th><th class="num">rows/s</th>
                <th class="num">epoch</th><th>step</th><th class="num">loss</th><th>run</th><th>started</th><th>running for</th><th />
              </tr>
            </thead>
            <tbody>
              {running.map((j) => (
                <tr key={jobKey(j)} data-pid={j.pid} data-function={j.function}>
                  <td>{j.pid}</td>
                  <td><code>{j.function}</code></td>
                  <td>{j.model}</td>
                  <td class="num rows-done">{formatInt(j.rowsDone)}</td>
                  <td class="num">{formatInt(j.rowsFromCache)}</td>
                  <td class="num">{formatNumber(Math.round(j.rowsPerSecond))}</td>
                  <TrainingCells job={j} />
                  <td title={formatTime(j.startedAt)}>{formatClock(j.startedAt)}</td>
                  <td>{formatDuration(Date.parse(data!.at) - Date.parse(j.startedAt))}</td>
                  <td><button class="danger" disabled={cancelling.has(j.pid)} onClick={() => void cancel(j)}>{cancelling.has(j.pid) ? 'Cancelling…' : 'Cancel'}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="card rows-chart"><h3>Rows done</h3><ChartView config={config} label="rows done per running job over time" height={240} /></div>
          {training.length > 0 && (
            <div class="card loss-chart"><h3>Training loss</h3><ChartView config={lossConfig} label="loss per optimizer step of the running trainings" height={240} /></div>
          )}
        </>
      )}
    </section>
  );
}

/** Where a training job is: its epoch, its step of all (with a bar), the last step's loss and the run that records it. */
function TrainingCells({ job }: { job: RunningJob }) {
  const t = job.training;
  if (!t) return <><td class="num muted">—</td><td class="muted">—</td><td class="num muted">—</td><td class="muted">—</td></>;
  const share = t.totalSteps > 0 ? Math.min(1, t.step / t.totalSteps) : 0;
  return (
    <>
      <td class="num epoch">{t.epoch}</td>
      <td class="step" title={`${(share * 100).toFixed(1)} % of the optimizer steps`}>
        {formatInt(t.step)} / {formatInt(t.totalSteps)}<span class="progress" aria-hidden="true"><span style={{ width: `${share * 100}%` }} /></span>
      </td>
      <td class="num loss" data-value={String(t.loss)}>{formatNumber(t.loss)}</td>
      <td>{t.runId ? (t.experiment ? <a href={`#/runs/${encodeURIComponent(t.experiment)}`} class="mono">{t.runId.slice(0, 12)}</a> : <code>{t.runId.slice(0, 12)}</code>) : '—'}</td>
    </>
  );
}
