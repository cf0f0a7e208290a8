// runs.export on the real engine: a LoRA run on the bundled model exports as a GGUF LoRA, a PEFT
// folder and a merged GGUF (with an Ollama Modelfile beside it); each export ran a smoke chat on
// the written file, and the merged file carries the base's special tokens. A file whose chat
// template differs from the run's is refused with the reason and removed; a running run can't
// be exported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadAddon } from '../../electron/engine/addon';
import { startRunsCore } from '../support/runs-core';
import { bundledGguf, noTestdata } from '../support/testdata';

test('a finished LoRA run exports as GGUF LoRA, PEFT and merged GGUF, each smoke-chatted; mismatches are refused', { skip: noTestdata, timeout: 90_000 }, async () => {
  const t = await startRunsCore();
  try {
    const run = await t.call('runs.create', { modelId: t.model.id, datasetId: t.datasetId, method: 'lora', rank: 4, steps: 4, lr: 1e-2, maxSeqLen: 96, threads: 2, targets: ['q', 'k', 'v', 'o', 'down'] });
    await assert.rejects(t.call('runs.export', { runId: run.id, format: 'gguf-lora' }), /is (queued|running): pause it or let it finish/);
    await t.core.runs.idle();
    assert.equal((await t.call('runs.get', { runId: run.id })).status, 'done');

    const lora = await t.call('runs.export', { runId: run.id, format: 'gguf-lora' });
    assert.equal(lora.path, path.join(t.dataDir, 'exports', `${(await t.call('runs.get', { runId: run.id })).name.replace(/[^\w.-]+/g, '-')}-lora.gguf`));
    const bytes = fs.readFileSync(lora.path);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GGUF');
    assert.ok(bytes.includes(Buffer.from('adapter.lora.alpha')));
    assert.equal(typeof lora.smokeChat, 'string');
    assert.equal(lora.modelfile, null);

    const peftDir = path.join(t.dataDir, 'peft-out');
    const peft = await t.call('runs.export', { runId: run.id, format: 'peft', path: peftDir });
    assert.equal(peft.path, peftDir);
    assert.equal(JSON.parse(fs.readFileSync(path.join(peftDir, 'adapter_config.json'), 'utf8')).r, 4);
    assert.equal(typeof peft.smokeChat, 'string');

    const mergedFile = path.join(t.dataDir, 'merged.gguf');
    const merged = await t.call('runs.export', { runId: run.id, format: 'gguf-merged', type: 'q8_0', path: mergedFile });
    assert.equal(merged.path, mergedFile);
    assert.equal(typeof merged.smokeChat, 'string');
    assert.equal(merged.modelfile, path.join(t.dataDir, 'merged.Modelfile'));
    const modelfile = fs.readFileSync(merged.modelfile!, 'utf8');
    assert.match(modelfile, /^FROM \.\/merged\.gguf$/m);
    assert.match(modelfile, /TEMPLATE """.*<\|im_start\|>assistant/s, 'stories260K has no template of its own: ChatML as text, as in training');
    assert.match(modelfile, /^PARAMETER stop "<\|im_end\|>"$/m);
    const addon = loadAddon();
    const [base, file] = await Promise.all([addon.readModelInfo(bundledGguf), addon.readModelInfo(mergedFile)]);
    assert.deepEqual([file.bosId, file.eosId, file.eotId ?? -1], [base.bosId, base.eosId, base.eotId ?? -1]);
    assert.equal(file.tensorType, 'Q8_0');
    // The smoke chat is the merged file's own greedy reply: the same text the adapter on the base gives.
    assert.equal(merged.smokeChat!.length > 0, true, 'the smoke chat produced text');

    // The run was trained with another template than the file carries: refused, nothing left behind.
    t.core.db.prepare('UPDATE runs SET template_hash = ? WHERE id = ?').run('0'.repeat(64), run.id);
    const refused = path.join(t.dataDir, 'refused.gguf');
    await assert.rejects(t.call('runs.export', { runId: run.id, format: 'gguf-merged', path: refused }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, /Export refused: the exported file's chat template \(ChatML \(plain text\)\) is not the one the run was trained with/);
      return true;
    });
    assert.ok(!fs.existsSync(refused));
    assert.ok((await t.call('runs.logs', { runId: run.id })).some((l) => /export gguf-merged refused/.test(l)));
  } finally {
    await t.core.close();
  }
});
