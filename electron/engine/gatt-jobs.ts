// Engine handlers of Ghost Attention synthesis and the adherence eval.
import type { GattEngineMethods } from '../shared/engine-protocol-gatt';
import type { EngineContext, EngineHandlers } from './engine-context';

export function gattJobs(ctx: EngineContext): EngineHandlers<keyof GattEngineMethods> {
  void ctx;
  return {};
}
