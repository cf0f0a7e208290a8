// Stop strings: text is held back while it could still be the start of a stop string, and the
// reply ends (without the stop string) as soon as one appears.
export class StopStringFilter {
  private pending = '';
  private emitted = '';
  stopped = false;

  constructor(private readonly stops: string[]) {}

  /** Adds generated text; returns what can be shown now. */
  push(delta: string): string {
    if (this.stopped || !delta) return '';
    this.pending += delta;
    let cut = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      return this.release(this.pending.slice(0, cut));
    }
    const hold = this.heldBack();
    return this.release(this.pending.slice(0, this.pending.length - hold), hold);
  }

  /** End of generation: whatever was held back is shown (it never became a stop string). */
  flush(tail = ''): string {
    const out = this.push(tail);
    if (this.stopped) return out;
    return out + this.release(this.pending);
  }

  /** All text shown so far. */
  get text(): string {
    return this.emitted;
  }

  private release(out: string, keep = 0): string {
    this.pending = keep > 0 ? this.pending.slice(this.pending.length - keep) : '';
    this.emitted += out;
    return out;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop string. */
  private heldBack(): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > best; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
