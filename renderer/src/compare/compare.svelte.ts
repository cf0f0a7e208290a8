// The Compare view's state: the run being compared with its base, the exchanges so far (each one
// prompt answered by both, streamed by compare.token), blind mode, ratings and the saved count.
import { api, errorMessage } from '../lib/api';
import { newJobId } from '../train/job-id';
import { arrange, preferenceOf, type RatingChoice, type Side } from './rating';

export interface Exchange {
  compareId: string;
  prompt: string;
  systemPrompt: string;
  replies: Record<Side, string>;
  status: 'streaming' | 'done' | 'error';
  error: string | null;
  /** Left then right as shown. */
  order: [Side, Side];
  blind: boolean;
  rated: RatingChoice | null;
}

class CompareState {
  runId = $state('');
  systemPrompt = $state('');
  maxTokens = $state(96);
  temperature = $state(0.7);
  seed = $state(0);
  blind = $state(false);
  exchanges = $state<Exchange[]>([]);
  preferenceCount = $state<number | null>(null);
  busy = $derived(this.exchanges.some((x) => x.status === 'streaming'));

  constructor() {
    api.on('compare.token', ({ compareId, side, text }) => {
      const x = this.exchanges.find((e) => e.compareId === compareId);
      if (x && x.status === 'streaming') x.replies[side] += text;
    });
  }

  selectRun(runId: string): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.exchanges = [];
    void this.loadCount();
  }

  async loadCount(): Promise<void> {
    if (!this.runId) {
      this.preferenceCount = null;
      return;
    }
    try {
      this.preferenceCount = (await api.call('compare.preferences', { runId: this.runId })).length;
    } catch {
      this.preferenceCount = null;
    }
  }

  async send(prompt: string): Promise<void> {
    const x: Exchange = {
      compareId: newJobId('cmp'),
      prompt,
      systemPrompt: this.systemPrompt,
      replies: { base: '', tuned: '' },
      status: 'streaming',
      error: null,
      order: arrange(this.blind),
      blind: this.blind,
      rated: null,
    };
    this.exchanges.push(x);
    const live = this.exchanges.at(-1)!;
    try {
      const r = await api.call('compare.send', {
        compareId: x.compareId,
        runId: this.runId,
        prompt,
        systemPrompt: this.systemPrompt,
        maxTokens: this.maxTokens,
        temperature: this.temperature,
        seed: this.seed,
      });
      live.replies = { base: r.base, tuned: r.tuned };
      live.status = 'done';
    } catch (e) {
      live.status = 'error';
      live.error = errorMessage(e);
    }
  }

  /** Saves the rating as a preference record; a blind exchange is revealed afterwards. */
  async rate(x: Exchange, rating: RatingChoice): Promise<void> {
    const pref = preferenceOf(x.order, x.replies, rating);
    await api.call('compare.rate', { runId: this.runId, prompt: x.prompt, systemPrompt: x.systemPrompt, ...pref });
    x.rated = rating;
    await this.loadCount();
  }
}

export const compare = new CompareState();
