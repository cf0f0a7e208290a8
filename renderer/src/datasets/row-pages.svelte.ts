// The table's rows, fetched a page at a time as the user scrolls (datasets.rows), cached, and
// dropped when the filter or the dataset's revision changes. Also the table's cursor and
// selection, which are positions in this filtered list.
import type { DatasetRowSummary, RowFilter } from '../../../electron/shared/contract-datasets';
import { api } from '../lib/api';

export const PAGE_SIZE = 200;
/** Pages kept in memory: far more than a screen, far less than 100K rows. */
const MAX_PAGES = 40;

export class RowPages {
  datasetId = $state<string | null>(null);
  filter = $state<RowFilter>({});
  /** Rows matching the filter; null until the first page arrived. */
  total = $state<number | null>(null);
  /** Bumped on every reset/invalidate: answers for an older generation are ignored. */
  generation = $state(0);
  /** Page number -> rows. Replaced, not mutated, so reads are reactive without deep proxies. */
  pages = $state.raw<Record<number, DatasetRowSummary[]>>({});
  /** The pages from before the last edit, shown until their fresh copy arrives (no flicker). */
  private stale = $state.raw<Record<number, DatasetRowSummary[]>>({});
  error = $state<string | null>(null);

  cursor = $state(0);
  /** Selected row ids; `all` means every row matching the filter (Ctrl/Cmd+A). */
  selected = $state.raw<Set<string>>(new Set());
  all = $state(false);
  private anchor: number | null = null;
  private inflight = new Map<number, Promise<void>>();
  private used: number[] = [];

  selectedCount = $derived(this.all ? (this.total ?? 0) : this.selected.size);

  reset(datasetId: string | null): void {
    this.datasetId = datasetId;
    this.stale = {};
    this.total = null;
    this.filter = {};
    this.cursor = 0;
    this.clearSelection();
    this.invalidate();
  }

  /** Forgets cached pages (after an edit) and fetches the first one again. */
  invalidate(): void {
    this.generation++;
    this.stale = { ...this.stale, ...this.pages };
    this.pages = {};
    this.inflight.clear();
    this.used = [];
    this.error = null;
    if (this.datasetId) void this.ensure(0, 0);
    else this.total = null;
  }

  setFilter(filter: RowFilter): void {
    this.filter = filter;
    this.total = null;
    this.stale = {};
    this.cursor = 0;
    this.clearSelection();
    this.invalidate();
  }

  rowAt(index: number): DatasetRowSummary | undefined {
    const page = Math.floor(index / PAGE_SIZE);
    return (this.pages[page] ?? this.stale[page])?.[index % PAGE_SIZE];
  }

  /** Makes sure the pages covering rows [start, end] are loaded or loading. */
  async ensure(start: number, end: number): Promise<void> {
    const first = Math.floor(Math.max(0, start) / PAGE_SIZE);
    const last = Math.floor(Math.max(0, end) / PAGE_SIZE);
    const waits: Promise<void>[] = [];
    for (let p = first; p <= last; p++) waits.push(this.fetchPage(p));
    await Promise.all(waits);
  }

  private fetchPage(page: number): Promise<void> {
    const datasetId = this.datasetId;
    if (!datasetId || this.pages[page]) return Promise.resolve();
    const pending = this.inflight.get(page);
    if (pending) return pending;
    const generation = this.generation;
    const filter = $state.snapshot(this.filter);
    const p = api
      .call('datasets.rows', { datasetId, filter, offset: page * PAGE_SIZE, limit: PAGE_SIZE })
      .then((r) => {
        if (generation !== this.generation) return;
        this.total = r.total;
        this.used = [...this.used.filter((n) => n !== page), page];
        if (this.stale[page]) {
          const { [page]: _, ...rest } = this.stale;
          this.stale = rest;
        }
        const next = { ...this.pages, [page]: r.rows };
        // Keep the cache bounded: drop the pages used longest ago.
        while (this.used.length > MAX_PAGES) delete next[this.used.shift()!];
        this.pages = next;
        if (this.cursor >= r.total) this.cursor = Math.max(0, r.total - 1);
      })
      .catch((e: unknown) => {
        if (generation === this.generation) this.error = e instanceof Error ? e.message : String(e);
      })
      .finally(() => {
        if (generation === this.generation) this.inflight.delete(page);
      });
    this.inflight.set(page, p);
    return p;
  }

  // --- selection ---------------------------------------------------------------------------------

  clearSelection(): void {
    this.selected = new Set();
    this.all = false;
    this.anchor = null;
  }

  isSelected(row: DatasetRowSummary): boolean {
    return this.all || this.selected.has(row.id);
  }

  /** Click: select only this row; Ctrl/Cmd: toggle it; Shift: the range from the last click. */
  async click(index: number, mode: 'only' | 'toggle' | 'range'): Promise<void> {
    const row = this.rowAt(index);
    if (!row) return;
    this.cursor = index;
    if (mode === 'range' && this.anchor !== null) {
      const [a, b] = this.anchor < index ? [this.anchor, index] : [index, this.anchor];
      await this.ensure(a, b);
      const next = new Set(this.all ? [] : this.selected);
      for (let i = a; i <= b; i++) {
        const r = this.rowAt(i);
        if (r) next.add(r.id);
      }
      this.all = false;
      this.selected = next;
      return;
    }
    this.anchor = index;
    if (mode === 'toggle') {
      const next = new Set(this.selected);
      if (next.has(row.id)) next.delete(row.id);
      else next.add(row.id);
      this.all = false;
      this.selected = next;
    } else {
      this.all = false;
      this.selected = new Set([row.id]);
    }
  }

  selectAll(): void {
    this.all = true;
    this.selected = new Set();
  }

  /** What a bulk action applies to: the selected ids, or the filter when everything is selected. */
  target(): { rowIds: string[] } | { filter: RowFilter } {
    return this.all ? { filter: $state.snapshot(this.filter) } : { rowIds: [...this.selected] };
  }
}
