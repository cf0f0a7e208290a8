// A small Svelte 5 binding for @tanstack/virtual-core: a vertical list of fixed-height rows in a
// scrolling element. The core computes which rows are visible; this exposes them as reactive
// state ($state) so a component renders only those (plus overscan).
import {
  Virtualizer,
  elementScroll,
  observeElementOffset,
  observeElementRect,
  type VirtualItem,
} from '@tanstack/virtual-core';

export interface VirtualListOptions {
  rowHeight: number;
  overscan?: number;
}

export class VirtualList {
  items = $state.raw<VirtualItem[]>([]);
  totalSize = $state(0);
  private v: Virtualizer<HTMLElement, HTMLElement>;
  private element: HTMLElement | null = null;
  private count = 0;

  constructor(private readonly opts: VirtualListOptions) {
    this.v = new Virtualizer<HTMLElement, HTMLElement>(this.options());
  }

  private options() {
    return {
      count: this.count,
      getScrollElement: () => this.element,
      estimateSize: () => this.opts.rowHeight,
      overscan: this.opts.overscan ?? 8,
      scrollToFn: elementScroll,
      observeElementRect,
      observeElementOffset,
      onChange: () => this.publish(),
    };
  }

  private publish(): void {
    this.items = this.v.getVirtualItems();
    this.totalSize = this.v.getTotalSize();
  }

  /** Attaches the scrolling element; returns the detach function (use from an $effect/attachment). */
  attach(element: HTMLElement): () => void {
    this.element = element;
    this.v.setOptions(this.options());
    const unmount = this.v._didMount();
    this.v._willUpdate();
    this.publish();
    return () => {
      unmount();
      this.element = null;
    };
  }

  setCount(count: number): void {
    if (count === this.count) return;
    this.count = count;
    this.v.setOptions(this.options());
    this.v._willUpdate();
    this.v.measure();
    this.publish();
  }

  /** Scrolls so row `index` is visible (no jump when it already is). */
  scrollToIndex(index: number, align: 'auto' | 'start' | 'center' | 'end' = 'auto'): void {
    if (this.count === 0) return;
    this.v.scrollToIndex(Math.max(0, Math.min(this.count - 1, index)), { align });
  }

  /** How many rows fit in the visible area (for PageUp/PageDown). */
  pageRows(): number {
    const h = this.element?.clientHeight ?? this.opts.rowHeight * 10;
    return Math.max(1, Math.floor(h / this.opts.rowHeight) - 1);
  }
}
