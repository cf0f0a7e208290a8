// Where the shared test data lives (../shared/testdata beside the repo, or $PADDOCK_TESTDATA).
import fs from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
export const testdataDir = process.env.PADDOCK_TESTDATA ?? path.resolve(repoRoot, '../shared/testdata');
export const stories = {
  bin: path.join(testdataDir, 'models/stories260K/stories260K.bin'),
  v1: path.join(testdataDir, 'models/stories260K/stories260K.v1.bin'),
  tok: path.join(testdataDir, 'models/stories260K/tok512.bin'),
  expected: path.join(testdataDir, 'models/stories260K/expected_run_c_t0_n200.txt'),
};
export const bundledGguf = path.join(repoRoot, 'resources/models/stories260K.gguf');

/** A reason to skip when the shared test data is not beside the repo, else undefined. */
export const noTestdata = fs.existsSync(stories.bin) ? undefined : `shared test data not found at ${testdataDir}`;

/**
 * Llama 2's legacy default system prompt (Meta's llama repo and HF's LlamaTokenizer before
 * use_default_system_prompt was turned off): axolotl's Llama-2-chat golden has it; Paddock's default is none.
 */
export const LLAMA2_LEGACY_SYSTEM =
  'You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, while being safe. ' +
  "Your answers should not include any harmful, unethical, racist, sexist, toxic, dangerous, or illegal content. " +
  'Please ensure that your responses are socially unbiased and positive in nature.\n\n' +
  'If a question does not make any sense, or is not factually coherent, explain why instead of answering something not correct. ' +
  "If you don't know the answer to a question, please don't share false information.";
