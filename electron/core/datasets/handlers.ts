// The datasets.* calls of the contract, answered by the DatasetService.
import type { AreaHandlers } from '../core-deps';
import type { datasetsContract } from '../../shared/contract-datasets';
import type { DatasetService } from './dataset-service';
import { previewDataset } from './dataset-stream';

const ok = { ok: true as const };

export function datasetHandlers(service: DatasetService): AreaHandlers<typeof datasetsContract> {
  return {
    'datasets.list': () => service.list(),
    'datasets.get': (r) => service.get(r.datasetId),
    'datasets.preview': (r) => previewDataset(r.path, { format: r.format, oasst: r.oasst, columns: r.columns }),
    'datasets.import': (r) => service.import(r),
    'datasets.rename': (r) => service.rename(r.datasetId, r.name),
    'datasets.delete': (r) => {
      service.remove(r.datasetId);
      return ok;
    },
    'datasets.rows': (r) => service.rows(r.datasetId, r.filter, r.offset, r.limit),
    'datasets.row': (r) => service.row(r.rowId),
    'datasets.rowHistory': (r) => service.rowHistory(r.rowId),
    'datasets.updateRow': (r) => service.updateRow(r.rowId, { messages: r.messages, split: r.split, tags: r.tags }),
    'datasets.addRow': (r) => service.addRow(r.datasetId, { messages: r.messages, split: r.split, tags: r.tags }),
    'datasets.bulk': (r) => service.bulk(r.datasetId, { rowIds: r.rowIds, filter: r.filter }, r.action),
    'datasets.autoSplit': (r) => service.autoSplit(r.datasetId, { validation: r.validation, test: r.test }, r.seed),
    'datasets.undo': (r) => service.undo(r.datasetId),
    'datasets.redo': (r) => service.redo(r.datasetId),
    'datasets.revisions': (r) => service.revisions(r.datasetId),
    'datasets.quarantine': (r) => service.quarantine(r.datasetId),
    'datasets.fixQuarantined': (r) => service.fixQuarantined(r.id, r.raw),
    'datasets.dropQuarantined': (r) => {
      service.dropQuarantined(r.id);
      return ok;
    },
    'datasets.validate': (r) => service.validate(r.datasetId, { modelId: r.modelId, maxTokens: r.maxTokens, nearDuplicateThreshold: r.nearDuplicateThreshold }),
    'datasets.lastValidation': (r) => service.lastValidation(r.datasetId),
    'datasets.stats': (r) => service.stats(r.datasetId),
    'datasets.maskPreview': (r) => service.maskPreview(r.rowId, r.modelId, r.mode),
    'datasets.export': (r) => service.export(r.datasetId, r.format, r.split, r.path),
  };
}
