// Ghost Attention: instruction builder, synthesis of a GAtt dataset with the current model, and
// the system-message adherence eval (Llama 2 sec. 3.3).
import type { CoreDeps } from '../../core-deps';
import type { DatasetService } from '../../datasets/dataset-service';
import type { RunService } from '../run-service';

export class GattService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly datasets: DatasetService,
    private readonly runs: RunService,
  ) {
    void this.deps;
    void this.datasets;
    void this.runs;
  }
}
