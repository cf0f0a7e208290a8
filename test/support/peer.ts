// The llama.cpp peer (node-llama-cpp, CPU prebuilt), shared by the bench and the parity test. It
// lives in test/bench's own package.json so the app's install stays lean, and is installed there
// on first use; when that fails (offline, no npm) callers skip and say why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const peerDir = path.resolve(__dirname, '../bench');
export const peerEntry = path.join(peerDir, 'node_modules/node-llama-cpp/dist/index.js');

/** Installs the peer if needed: undefined when it is ready, else why it is not. */
export function ensurePeer(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string | undefined {
  if (fs.existsSync(path.join(peerDir, 'node_modules/node-llama-cpp/package.json'))) return undefined;
  log('[peer] installing node-llama-cpp (CPU prebuilt only) into test/bench ...');
  // --omit=optional skips the GPU prebuilds; the CPU one is a direct dependency there.
  const r = spawnSync('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: peerDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  if (r.status === 0 && fs.existsSync(peerEntry)) return undefined;
  const why = `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
  return `node-llama-cpp could not be installed into test/bench (${why || `npm exit ${r.status}`})`;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The peer's module, typed loosely on purpose: it is installed on demand, so the type-check cannot rely on it. */
export interface PeerModule {
  getLlama(options: object): Promise<any>;
  LlamaLogLevel: { error: unknown };
}

export async function importPeer(): Promise<PeerModule> {
  return (await import(peerEntry)) as PeerModule;
}

/** A CPU-only llama.cpp that never builds from source and logs only errors. */
export async function getPeerLlama(): Promise<any> {
  const { getLlama, LlamaLogLevel } = await importPeer();
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
}
