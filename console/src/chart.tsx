import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip,
  type ChartConfiguration, type Plugin,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(LineController, BarController, ScatterController, LineElement, PointElement, BarElement, LinearScale, CategoryScale, Legend, Tooltip);

declare global {
  interface Window {
    Chart: typeof Chart;
  }
}
// Chart.js's own API on the page, as its documentation uses it: `Chart.getChart(canvas).data` shows
// what a chart holds (in the browser's developer tools, and to the browser tests).
window.Chart = Chart;

export const PALETTE = ['#2563eb', '#e8772e', '#16a34a', '#dc2626', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

/**
 * After every draw, writes on the chart's element how many series Chart.js drew and how many of
 * their points (or bars) it laid out inside the plot area, for people reading the page with a
 * screen reader (aria-label) and for the browser tests.
 */
const renderedSummary = (holder: HTMLElement): Plugin => ({
  id: 'aiduckRenderedSummary',
  afterRender(chart) {
    const area = chart.chartArea;
    const points: number[] = [];
    chart.data.datasets.forEach((_d, i) => {
      if (!chart.isDatasetVisible(i)) return;
      const drawn = chart.getDatasetMeta(i).data.filter((el) => Number.isFinite(el.x) && Number.isFinite(el.y)
        && el.x >= area.left - 0.5 && el.x <= area.right + 0.5 && el.y >= area.top - 0.5 && el.y <= area.bottom + 0.5);
      points.push(drawn.length);
    });
    holder.dataset['series'] = String(points.length);
    holder.dataset['points'] = points.join(',');
  },
});

interface Props {
  config: ChartConfiguration;
  /** What the chart shows, in words. */
  label: string;
  height?: number;
}

/** A Chart.js chart, drawn again whenever `config` changes. */
export function ChartView({ config, label, height = 320 }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, {
      ...config,
      options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
      plugins: [...(config.plugins ?? []), renderedSummary(holder.current!)],
    });
    return () => chart.destroy();
  }, [config]);
  return (
    <div class="chart" ref={holder} style={{ height: `${height}px` }} data-chart-type={config.type}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
