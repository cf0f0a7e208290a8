// Engine methods of a training run: the run's loop runs in the engine process (TrainingRun) and
// streams its steps as `event` messages for the job; pause and cancel land between steps.
import type { RunConfig } from '../core/training/run-config';

export interface TrainParams {
  jobId: string;
  runDir: string;
  config: RunConfig;
  resume: boolean;
}

export interface TrainEngineMethods {
  train: { params: TrainParams; result: { status: 'done' | 'cancelled' | 'paused'; steps: number; totalSteps: number } };
  trainControl: { params: { jobId: string; action: 'pause' | 'cancel' }; result: { ok: boolean } };
}
