// Engine handlers of training runs: wraps TrainingRun (train/training-run.ts) as a job.
import type { TrainEngineMethods } from '../shared/engine-protocol-train';
import type { EngineContext, EngineHandlers } from './engine-context';

export function trainJobs(ctx: EngineContext): EngineHandlers<keyof TrainEngineMethods> {
  void ctx;
  return {
    train: async () => {
      throw new Error('train: not implemented yet');
    },
    trainControl: async () => ({ ok: false }),
  };
}
