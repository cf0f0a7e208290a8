// Engine handlers of the datasets workbench (token counts, mask preview).
import type { DatasetEngineMethods } from '../shared/engine-protocol-datasets';
import type { EngineContext, EngineHandlers } from './engine-context';

export function datasetJobs(ctx: EngineContext): EngineHandlers<keyof DatasetEngineMethods> {
  void ctx;
  return {
    tokenizeSamples: async () => {
      throw new Error('tokenizeSamples: not implemented yet');
    },
  };
}
