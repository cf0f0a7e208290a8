// What the host needs from an engine: read model files, generate with streaming, stop.
// Implemented by the real engine process (ProcessEngine) and by FakeEngine for unit tests.
import type { EngineMethod, EngineMethods, GenerateParams, GenerateResult } from '../../shared/engine-protocol';
import type { NativeModelInfo } from '../../engine/addon';

export type EngineState = 'idle' | 'loading' | 'busy' | 'crashed' | 'stopped';

export interface EngineClient {
  readModelInfo(path: string, tokenizerPath?: string): Promise<NativeModelInfo>;
  /** Starts a generation; `onText` receives each visible text delta. Rejects with ENGINE_CRASHED if the process dies. */
  generate(params: GenerateParams, onText: (delta: string) => void): Promise<GenerateResult>;
  stop(jobId: string): Promise<void>;
  /**
   * Any other engine method (engine-protocol-<area>.ts). A method whose params carry a `jobId`
   * streams `event` messages for that job to `onEvent` until it settles.
   */
  call<M extends EngineMethod>(method: M, params: EngineMethods[M]['params'], onEvent?: (event: unknown) => void): Promise<EngineMethods[M]['result']>;
  onStateChange(listener: (state: EngineState, detail: string | null) => void): () => void;
  close(): Promise<void>;
}
