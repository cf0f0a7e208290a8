// The datasets.* calls of the contract, answered by the DatasetService.
import type { AreaHandlers } from '../core-deps';
import type { datasetsContract } from '../../shared/contract-datasets';
import type { DatasetService } from './dataset-service';

export function datasetHandlers(service: DatasetService): AreaHandlers<typeof datasetsContract> {
  const todo = (name: string) => () => {
    void service;
    throw new Error(`${name}: not implemented yet`);
  };
  return {
    'datasets.list': todo('datasets.list'),
    'datasets.get': todo('datasets.get'),
    'datasets.preview': todo('datasets.preview'),
    'datasets.import': todo('datasets.import'),
    'datasets.rename': todo('datasets.rename'),
    'datasets.delete': todo('datasets.delete'),
    'datasets.rows': todo('datasets.rows'),
    'datasets.row': todo('datasets.row'),
    'datasets.rowHistory': todo('datasets.rowHistory'),
    'datasets.updateRow': todo('datasets.updateRow'),
    'datasets.addRow': todo('datasets.addRow'),
    'datasets.bulk': todo('datasets.bulk'),
    'datasets.autoSplit': todo('datasets.autoSplit'),
    'datasets.undo': todo('datasets.undo'),
    'datasets.redo': todo('datasets.redo'),
    'datasets.revisions': todo('datasets.revisions'),
    'datasets.quarantine': todo('datasets.quarantine'),
    'datasets.fixQuarantined': todo('datasets.fixQuarantined'),
    'datasets.dropQuarantined': todo('datasets.dropQuarantined'),
    'datasets.validate': todo('datasets.validate'),
    'datasets.lastValidation': todo('datasets.lastValidation'),
    'datasets.stats': todo('datasets.stats'),
    'datasets.maskPreview': todo('datasets.maskPreview'),
    'datasets.export': todo('datasets.export'),
  };
}
