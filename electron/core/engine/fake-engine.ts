// A fake engine for fast unit tests of the host logic: scripted replies, no native code.
import { PaddockError } from '../errors';
import type { EngineMethod, EngineMethods, GenerateParams, GenerateResult } from '../../shared/engine-protocol';
import type { NativeModelInfo } from '../../engine/addon';
import type { EngineClient, EngineState } from './engine-client';

export interface FakeEngineOptions {
  /** The reply for a prompt; default: echoes the last line of the prompt. */
  reply?: (params: GenerateParams) => string;
  /** Files that readModelInfo accepts, with their info; others fail as BAD_MODEL_FILE. */
  models?: Record<string, Partial<NativeModelInfo>>;
  /** Scripted answers for the other engine methods (`call`); a method without one fails. */
  methods?: { [M in EngineMethod]?: (params: EngineMethods[M]['params'], onEvent: (event: unknown) => void) => Promise<EngineMethods[M]['result']> };
}

export class FakeEngine implements EngineClient {
  readonly requests: GenerateParams[] = [];
  private readonly stopped = new Set<string>();
  private crashNext = false;
  private readonly listeners = new Set<(s: EngineState, d: string | null) => void>();

  constructor(private readonly opts: FakeEngineOptions = {}) {}

  /** The next generation emits half its reply, then fails as a crashed engine would. */
  crashOnNextGenerate(): void {
    this.crashNext = true;
  }

  async readModelInfo(path: string): Promise<NativeModelInfo> {
    const m = this.opts.models?.[path];
    if (!m) throw new PaddockError('BAD_MODEL_FILE', `${path}: not a model file (fake engine)`);
    return {
      format: 'gguf', architecture: 'llama', name: 'fake', vocabSize: 512, embeddingLength: 64, feedForwardLength: 172,
      layerCount: 5, headCount: 8, headCountKv: 4, contextLength: 512, ropeTheta: 10000, rmsEps: 1e-5,
      tiedEmbeddings: true, tensorType: 'F32', parameterCount: 260000, fileBytes: 1000, bosId: 1, eosId: 2, metadata: {},
      ...m,
    };
  }

  async generate(params: GenerateParams, onText: (delta: string) => void): Promise<GenerateResult> {
    this.requests.push(params);
    const reply = this.opts.reply?.(params) ?? `echo: ${params.prompt.split('\n').filter(Boolean).pop()}`;
    const words = reply.split(/(?<= )/);
    const crash = this.crashNext;
    this.crashNext = false;
    let text = '';
    for (let i = 0; i < words.length; i++) {
      if (this.stopped.delete(params.jobId)) return this.result(text, i, params, 'user_stop');
      if (crash && i >= words.length / 2) throw new PaddockError('ENGINE_CRASHED', 'The engine process stopped (killed by SIGKILL).');
      text += words[i];
      onText(words[i]);
      await new Promise((r) => setImmediate(r));
    }
    return this.result(text, words.length, params, 'eos');
  }

  async call<M extends EngineMethod>(method: M, params: EngineMethods[M]['params'], onEvent?: (event: unknown) => void): Promise<EngineMethods[M]['result']> {
    const scripted = this.opts.methods?.[method] as ((p: EngineMethods[M]['params'], e: (event: unknown) => void) => Promise<EngineMethods[M]['result']>) | undefined;
    if (!scripted) throw new PaddockError('ENGINE_ERROR', `The fake engine has no script for ${method}.`);
    return scripted(params, onEvent ?? (() => undefined));
  }

  async stop(jobId: string): Promise<void> {
    this.stopped.add(jobId);
  }

  onStateChange(listener: (s: EngineState, d: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}

  private result(text: string, n: number, p: GenerateParams, stopReason: GenerateResult['stats']['stopReason']): GenerateResult {
    return {
      text,
      stats: {
        promptTokens: p.prompt.length, completionTokens: n, timeToFirstTokenMs: 1, tokensPerSecond: 100, seed: p.settings.seed, stopReason,
        contextPolicy: p.settings.contextPolicy ?? 'truncate', truncatedTokens: 0, contextShifts: 0, shiftedTokens: 0,
      },
    };
  }
}
