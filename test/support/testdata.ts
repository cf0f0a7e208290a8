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
