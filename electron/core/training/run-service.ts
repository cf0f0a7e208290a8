// Fine-tuning runs: a queue on the engine (one run at a time), runs and per-step metrics in
// SQLite, pause / resume / cancel, interrupted runs after a crash, export and compare.
import type { CoreDeps } from '../core-deps';
import type { DatasetService } from '../datasets/dataset-service';

export class RunService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly datasets: DatasetService,
  ) {}

  /** Called once at startup: runs left 'running' by a crash of the app become 'interrupted'. */
  recover(): void {
    void this.deps;
    void this.datasets;
  }

  /** The absolute path of a run's adapter checkpoint, for compare and GAtt synthesis with the tuned model. */
  adapterPath(runId: string): string {
    throw new Error(`adapterPath ${runId}: not implemented yet`);
  }

  async stopAll(): Promise<void> {}
}
