import { useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import type { CancelResponse, SqlColumn, SqlPage as Page } from '../../../src/console/api-types.js';
import { describeError, postJson } from '../api.js';
import { ChartView, PALETTE } from '../chart.js';
import { chartNumber, formatInt, isNumericType, isTimeType } from '../format.js';
import { SqlEditor } from '../sql-editor.js';

const PAGE_SIZES = [50, 100, 500, 1000];
const EXAMPLE = `SELECT name, version, task, provider, created_at\nFROM ai.model_versions\nORDER BY name, version;`;

/**
 * Runs one statement as typed, in a session of its own, and shows its result a page at a time with a
 * quick chart of the page's rows.
 */
export function SqlPage() {
  const [sql, setSql] = useState(() => sessionStorage.getItem('aiduck.sql') ?? EXAMPLE);
  const [pageSize, setPageSize] = useState(100);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const request = async (path: string, body: unknown): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setPage(await postJson<Page>(path, body));
    } catch (e) {
      setError(describeError(e));
      if (path === '/api/sql/run') setPage(null);
    } finally {
      setBusy(false);
    }
  };
  const run = (): void => {
    sessionStorage.setItem('aiduck.sql', sql);
    void request('/api/sql/run', { sql, pageSize });
  };
  const goTo = (offset: number | 'last'): void => void request('/api/sql/page', { resultId: page?.resultId, offset });
  const cancel = (): void => void postJson<CancelResponse>('/api/sql/cancel').catch((e: unknown) => setError(describeError(e)));

  return (
    <section class="sql">
      <div class="editor">
        <SqlEditor initial={sql} onChange={setSql} onRun={() => !busy && run()} />
        <div class="toolbar">
          <button class="primary" onClick={run} disabled={busy}>Run</button>
          {busy && <button class="danger" onClick={cancel}>Cancel</button>}
          <label>Rows per page <select value={pageSize} onChange={(e) => setPageSize(Number(e.currentTarget.value))}>
            {PAGE_SIZES.map((n) => <option key={n} value={n}>{n}</option>)}
          </select></label>
          <span class="muted">Ctrl+Enter runs it · one statement at a time, as typed (writes too), in this page's own session: SET and BEGIN carry over</span>
          {busy && <span class="muted running">running…</span>}
        </div>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {page && <Result key={page.resultId} page={page} busy={busy} goTo={goTo} />}
    </section>
  );
}

function Result({ page, busy, goTo }: { page: Page; busy: boolean; goTo: (offset: number | 'last') => void }) {
  const [row, setRow] = useState('');
  if (!page.columns.length) return <p class="notice command-tag">{page.command ?? 'done'} <span class="muted">({page.elapsedMs} ms)</span></p>;
  const first = page.offset + 1;
  const last = page.offset + page.rows.length;
  const size = page.pageSize;
  return (
    <div class="result">
      <div class="pager">
        <span class="range" aria-live="polite">
          {page.rows.length ? <>rows {formatInt(first)}–{formatInt(last)}</> : 'no rows'}
          {page.total !== null ? <> of {formatInt(page.total)}</> : <span class="muted"> (more follow)</span>}
        </span>
        <button onClick={() => goTo(0)} disabled={busy || page.offset === 0}>« First</button>
        <button onClick={() => goTo(Math.max(0, page.offset - size))} disabled={busy || page.offset === 0}>‹ Previous</button>
        <button onClick={() => goTo(page.offset + size)} disabled={busy || page.done}>Next ›</button>
        <button onClick={() => goTo('last')} disabled={busy || page.done}>Last »</button>
        <form class="goto" onSubmit={(e) => {
          e.preventDefault();
          const n = Number(row);
          if (Number.isInteger(n) && n >= 1) goTo(Math.floor((n - 1) / size) * size);
        }}>
          <label>Go to row <input name="row" inputMode="numeric" size={8} value={row} onInput={(e) => setRow(e.currentTarget.value)} /></label>
        </form>
        <span class="muted">{page.elapsedMs} ms</span>
      </div>
      <div class="table-scroll">
        <table class="grid result-table">
          <thead><tr><th class="num">#</th>{page.columns.map((c, i) => <th key={i} class={isNumericType(c.typeOid) ? 'num' : ''}>{c.name}</th>)}</tr></thead>
          <tbody>
            {page.rows.map((r, i) => (
              <tr key={page.offset + i}>
                <td class="num muted">{formatInt(page.offset + i + 1)}</td>
                {r.map((v, j) => <td key={j} class={v === null ? 'null' : isNumericType(page.columns[j]!.typeOid) ? 'num' : ''}>{v ?? 'NULL'}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.rows.length > 0 && <QuickChart page={page} />}
    </div>
  );
}

type Kind = 'line' | 'bar' | 'scatter';

/** A chart of the page's rows: one column across, one or more numeric columns up. */
function QuickChart({ page }: { page: Page }) {
  const numeric = page.columns.map((c, i) => ({ c, i })).filter(({ c }) => isNumericType(c.typeOid));
  const [kind, setKind] = useState<Kind>('line');
  const [x, setX] = useState(0);
  const [ys, setYs] = useState<number[]>(() => {
    const first = numeric.find(({ i }) => i !== 0);
    return first ? [first.i] : [];
  });
  const columnsKey = page.columns.map((c) => `${c.name}:${c.typeOid}`).join();
  const xCol = page.columns[x] ?? page.columns[0]!;
  const xNumeric = isNumericType(xCol.typeOid) || isTimeType(xCol.typeOid);
  const effectiveKind: Kind = kind === 'scatter' && !xNumeric ? 'line' : kind;
  const chosen = ys.filter((i) => i < page.columns.length && isNumericType(page.columns[i]!.typeOid));
  const config = useMemo(() => chartConfig(effectiveKind, page, x, chosen, xNumeric), [page, effectiveKind, x, chosen.join(), columnsKey]);
  if (!numeric.length) return <p class="muted">No numeric column to chart.</p>;
  const toggle = (i: number): void => setYs((cur) => (cur.includes(i) ? cur.filter((c) => c !== i) : [...cur, i]));
  return (
    <div class="quick-chart card">
      <div class="toolbar">
        <strong>Chart</strong>
        <label>type <select name="chart-type" value={effectiveKind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          <option value="line">line</option><option value="bar">bar</option><option value="scatter" disabled={!xNumeric}>scatter</option>
        </select></label>
        <label>x <select name="chart-x" value={x} onChange={(e) => setX(Number(e.currentTarget.value))}>
          {page.columns.map((c, i) => <option key={i} value={i}>{c.name}</option>)}
        </select></label>
        <span class="y-columns">y {numeric.map(({ c, i }) => (
          <label key={i} class="check"><input type="checkbox" name="chart-y" value={c.name} checked={chosen.includes(i)} onChange={() => toggle(i)} /> {c.name}</label>
        ))}</span>
        <span class="muted">rows {formatInt(page.offset + 1)}–{formatInt(page.offset + page.rows.length)} (this page)</span>
      </div>
      {chosen.length > 0
        ? <ChartView config={config} label={`${effectiveKind} chart of ${chosen.map((i) => page.columns[i]!.name).join(', ')} by ${xCol.name}`} />
        : <p class="muted">Pick one or more numeric columns for the y axis.</p>}
    </div>
  );
}

function chartConfig(kind: Kind, page: Page, x: number, ys: number[], xNumeric: boolean): ChartConfiguration {
  const xCol: SqlColumn = page.columns[x]!;
  // Bars stand on categories (the x values as text); lines and points go across a number scale when x is a number or a time.
  const across = xNumeric && kind !== 'bar';
  const datasets = ys.map((yi, n) => {
    const yCol = page.columns[yi]!;
    const color = PALETTE[n % PALETTE.length]!;
    const y = (r: Array<string | null>): number | null => chartNumber(r[yi] ?? null, yCol.typeOid);
    const data = across
      ? page.rows.flatMap((r) => {
        const px = chartNumber(r[x] ?? null, xCol.typeOid);
        const py = y(r);
        return px === null || py === null ? [] : [{ x: px, y: py }];
      })
      : page.rows.map(y);
    return { label: yCol.name, data, borderColor: color, backgroundColor: kind === 'bar' ? `${color}cc` : color, pointRadius: kind === 'line' ? 1.5 : 3 };
  });
  const timeTicks = isTimeType(xCol.typeOid) ? { ticks: { callback: (v: number | string) => new Date(Number(v)).toISOString().slice(0, 19).replace('T', ' ') } } : {};
  return {
    type: kind,
    data: { ...(across ? {} : { labels: page.rows.map((r) => r[x] ?? 'NULL') }), datasets },
    options: {
      scales: {
        x: across ? { type: 'linear', title: { display: true, text: xCol.name }, ...timeTicks } : { type: 'category', title: { display: true, text: xCol.name } },
        y: { title: { display: ys.length === 1, text: ys.length === 1 ? page.columns[ys[0]!]!.name : '' } },
      },
    },
  } as ChartConfiguration;
}
