// Per-step metrics as the charts draw them: merged by step (a resumed run re-reports the steps
// after its last checkpoint, and events may race the initial runs.metrics load), and turned into
// uPlot's columnar form. Pure functions, no state.
import type { StepMetric } from '../../../electron/shared/contract-runs';

/** `a` and `b` merged by step, `b` winning on the same step; sorted by step. */
export function mergeMetrics(a: readonly StepMetric[], b: readonly StepMetric[]): StepMetric[] {
  if (b.length === 0) return [...a];
  const last = a.at(-1);
  // The common case (one new step after the others) stays O(1).
  if (last && b.length === 1 && b[0].step > last.step) return [...a, b[0]];
  const byStep = new Map<number, StepMetric>();
  for (const m of a) byStep.set(m.step, m);
  for (const m of b) byStep.set(m.step, m);
  return [...byStep.values()].sort((x, y) => x.step - y.step);
}

type Column = (number | null)[];

/** One field of every metric, over the steps in `xs` (null where a run has no value at that step). */
function column(metrics: readonly StepMetric[], xs: readonly number[], pick: (m: StepMetric) => number | null): Column {
  const byStep = new Map(metrics.map((m) => [m.step, m]));
  return xs.map((x) => {
    const m = byStep.get(x);
    const v = m ? pick(m) : null;
    return v === null || !Number.isFinite(v) ? null : v;
  });
}

function stepsOf(...runs: (readonly StepMetric[])[]): number[] {
  const set = new Set<number>();
  for (const r of runs) for (const m of r) set.add(m.step);
  return [...set].sort((a, b) => a - b);
}

/** Loss and validation loss of one run, and of a second run to compare with when given. */
export function lossColumns(run: readonly StepMetric[], other: readonly StepMetric[] | null): Column[] {
  const xs = stepsOf(run, other ?? []);
  const cols: Column[] = [xs, column(run, xs, (m) => m.loss), column(run, xs, (m) => m.valLoss)];
  if (other) cols.push(column(other, xs, (m) => m.loss), column(other, xs, (m) => m.valLoss));
  return cols;
}

/** One metric of a run over its steps (lr, grad norm, tokens/s). */
export function seriesColumns(run: readonly StepMetric[], pick: (m: StepMetric) => number): Column[] {
  const xs = run.map((m) => m.step);
  return [xs, column(run, xs, pick)];
}

/** "1 h 04 min", "3 min 20 s", "42 s". */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Losses with four significant digits, tiny learning rates in exponent form. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}
