// Sample datasets bundled in resources/datasets (OpenAssistant trees, FastChat conversations; their
// licences beside them), imported once on first start so a new user has data to look at. A sample
// the user deletes stays deleted: the import is remembered, not the dataset.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetService } from './dataset-service';

interface BundledSample {
  key: string;
  file: string;
  name: string;
  format: 'oasst' | 'sharegpt';
}

export const bundledSamples: BundledSample[] = [
  { key: 'oasst-en-100-tree', file: 'oasst/en_100_tree.jsonl', name: 'OpenAssistant trees (sample)', format: 'oasst' },
  { key: 'fastchat-dummy-conversation', file: 'fastchat/dummy_conversation.json', name: 'FastChat conversations (sample)', format: 'sharegpt' },
];

/** Imports each bundled sample not imported before; returns the ids of the datasets it created. */
export async function ensureBundledDatasets(service: DatasetService, dir: string): Promise<string[]> {
  const created: string[] = [];
  for (const s of bundledSamples) {
    const file = path.join(dir, s.file);
    if (service.store.datasets.bundledImported(s.key) || !fs.existsSync(file)) continue;
    const out = await service.import({ path: file, name: s.name, format: s.format, oasst: 'best' });
    service.store.datasets.markBundled(s.key, out.dataset.id);
    created.push(out.dataset.id);
  }
  return created;
}
