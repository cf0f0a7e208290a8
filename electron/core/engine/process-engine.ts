// The real engine: a separate process that loads the native addon. Started on first use,
// restarted on demand after a crash; a crash fails the jobs in flight with ENGINE_CRASHED.
import { PaddockError, fromEngineErrorCode } from '../errors';
import type { EngineMethod, EngineMethods, EngineToHost, GenerateParams, GenerateResult } from '../../shared/engine-protocol';
import type { NativeModelInfo } from '../../engine/addon';
import { type EngineChannel, type EngineSpawner, engineEntry, forkSpawner } from './engine-channel';
import type { EngineClient, EngineState } from './engine-client';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ProcessEngine implements EngineClient {
  private channel?: EngineChannel;
  private ready?: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly tokenListeners = new Map<string, (t: string) => void>();
  private readonly eventListeners = new Map<string, (e: unknown) => void>();
  private readonly stateListeners = new Set<(s: EngineState, d: string | null) => void>();
  private closed = false;

  constructor(
    private readonly spawner: EngineSpawner = forkSpawner,
    private readonly entry: string = engineEntry(),
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The engine process id, when one is running (tests use it to kill the engine). */
  get pid(): number | undefined {
    return this.channel?.pid;
  }

  readModelInfo(path: string, tokenizerPath?: string): Promise<NativeModelInfo> {
    return this.request('readModelInfo', { path, tokenizerPath });
  }

  async generate(params: GenerateParams, onText: (delta: string) => void): Promise<GenerateResult> {
    this.tokenListeners.set(params.jobId, onText);
    this.emitState('busy', null);
    try {
      return await this.request('generate', params);
    } finally {
      this.tokenListeners.delete(params.jobId);
      if (this.tokenListeners.size === 0 && this.eventListeners.size === 0 && this.channel) this.emitState('idle', null);
    }
  }

  async stop(jobId: string): Promise<void> {
    if (!this.channel) return;
    await this.request('stop', { jobId });
  }

  async call<M extends EngineMethod>(method: M, params: EngineMethods[M]['params'], onEvent?: (event: unknown) => void): Promise<EngineMethods[M]['result']> {
    const jobId = (params as { jobId?: unknown }).jobId;
    if (typeof jobId !== 'string' || !onEvent) return this.request(method, params);
    this.eventListeners.set(jobId, onEvent);
    this.emitState('busy', null);
    try {
      return await this.request(method, params);
    } finally {
      this.eventListeners.delete(jobId);
      if (this.tokenListeners.size === 0 && this.eventListeners.size === 0 && this.channel) this.emitState('idle', null);
    }
  }

  onStateChange(listener: (s: EngineState, d: string | null) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channel?.kill();
    this.channel = undefined;
  }

  private emitState(state: EngineState, detail: string | null) {
    for (const l of this.stateListeners) l(state, detail);
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    this.emitState('loading', null);
    const channel = this.spawner(this.entry, this.env);
    this.channel = channel;
    this.ready = new Promise<void>((resolve, reject) => {
      channel.onMessage((msg) => {
        if (msg.type === 'ready') {
          this.emitState('idle', null);
          resolve();
        } else this.onMessage(msg);
      });
      channel.onExit((code, signal) => {
        if (this.channel !== channel) return;
        this.channel = undefined;
        this.ready = undefined;
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const err = new PaddockError('ENGINE_CRASHED', `The engine process stopped (${why}). It restarts on the next request.`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.tokenListeners.clear();
        this.eventListeners.clear();
        this.emitState(this.closed ? 'stopped' : 'crashed', this.closed ? null : err.message);
      });
    });
    return this.ready;
  }

  private onMessage(msg: EngineToHost) {
    if (msg.type === 'token') {
      this.tokenListeners.get(msg.jobId)?.(msg.text);
      return;
    }
    if (msg.type === 'event') {
      this.eventListeners.get(msg.jobId)?.(msg.event);
      return;
    }
    if (msg.type !== 'response') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      p.reject(new PaddockError(fromEngineErrorCode(msg.error.code), msg.error.message));
    } else p.resolve(msg.result);
  }

  private async request<M extends EngineMethod>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    if (this.closed) throw new PaddockError('ENGINE_ERROR', 'The engine has been shut down.');
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel!.send({ type: 'request', id, method, params });
    });
  }
}
