// The order rows are trained in: a fresh seeded shuffle per epoch, consumed `batch` rows per step
// (a batch that reaches an epoch's end continues into the next epoch's shuffle). Its whole state
// (the generator state the current epoch was shuffled from, and the cursor: epoch + index) goes
// into each checkpoint, so a resumed run sees exactly the rows the uninterrupted one would.

/** xoshiro128** (Blackman & Vigna): small, fast, and its state is four plain numbers to save. */
export class Xoshiro128 {
  private s: Uint32Array;

  constructor(state: ArrayLike<number>) {
    this.s = Uint32Array.from(state);
    if (this.s.length !== 4 || this.s.every((x) => x === 0)) throw new RangeError('xoshiro128 needs four words, not all zero');
  }

  /** Seeds the four words with splitmix32 so nearby seeds give unrelated streams. */
  static fromSeed(seed: number): Xoshiro128 {
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    return new Xoshiro128([next(), next(), next(), next()]);
  }

  state(): number[] {
    return Array.from(this.s);
  }

  nextU32(): number {
    const s = this.s;
    const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection). */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }
}

export interface DataOrderState {
  /** Generator state before the current epoch's shuffle was drawn. */
  rng: number[];
  epoch: number;
  /** Next position in the current epoch's permutation. */
  index: number;
}

export class DataOrder {
  private rng: Xoshiro128;
  private epochStartRng: number[];
  private perm: number[] = [];
  epoch = 0;
  index = 0;

  private constructor(
    private readonly rowCount: number,
    state: DataOrderState,
  ) {
    if (rowCount < 1) throw new RangeError('no training rows');
    this.rng = new Xoshiro128(state.rng);
    this.epochStartRng = state.rng.slice();
    this.epoch = state.epoch;
    this.perm = this.shuffle();
    if (!Number.isInteger(state.index) || state.index < 0 || state.index > rowCount) throw new RangeError(`data cursor ${state.index} is outside 0..${rowCount}`);
    this.index = state.index;
  }

  static start(rowCount: number, seed: number): DataOrder {
    return new DataOrder(rowCount, { rng: Xoshiro128.fromSeed(seed).state(), epoch: 0, index: 0 });
  }

  static restore(rowCount: number, state: DataOrderState): DataOrder {
    return new DataOrder(rowCount, state);
  }

  state(): DataOrderState {
    return { rng: this.epochStartRng.slice(), epoch: this.epoch, index: this.index };
  }

  /** The row indices of the next optimizer step. */
  next(batch: number): number[] {
    const out: number[] = [];
    while (out.length < batch) {
      if (this.index === this.rowCount) {
        this.epoch++;
        this.index = 0;
        this.epochStartRng = this.rng.state();
        this.perm = this.shuffle();
      }
      out.push(this.perm[this.index++]);
    }
    return out;
  }

  /** Fisher-Yates over 0..rowCount-1 from the generator (advancing it). */
  private shuffle(): number[] {
    const p = Array.from({ length: this.rowCount }, (_, i) => i);
    for (let i = p.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
