// Where Paddock keeps its data and finds its bundled resources.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

/** $PADDOCK_HOME, else ~/.paddock. (Electron passes its userData folder explicitly.) */
export function defaultDataDir(): string {
  return process.env.PADDOCK_HOME || path.join(os.homedir(), '.paddock');
}

export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The repo root in development, or the packaged app's resources folder. */
export function resourcesDir(): string {
  const candidates = [
    path.resolve(__dirname, '../../../resources'), // dist/electron/core -> resources
    path.resolve(__dirname, '../../resources'), // electron/core (tsx) -> resources
    process.resourcesPath ? path.join(process.resourcesPath, 'resources') : '',
  ].filter(Boolean);
  return candidates.find((p) => fs.existsSync(path.join(p, 'models'))) ?? candidates[0];
}

export const bundledModelFile = (): string => path.join(resourcesDir(), 'models', 'stories260K.gguf');
export const bundledDatasetsDir = (): string => path.join(resourcesDir(), 'datasets');

/** The built renderer (dist/renderer), served by browser mode and loaded by the Electron window. */
export function rendererDir(): string {
  const candidates = [
    path.resolve(__dirname, '../../renderer'), // dist/electron/core -> dist/renderer
    path.resolve(__dirname, '../../dist/renderer'), // electron/core (tsx) -> dist/renderer
  ];
  // The built renderer has assets/; the source folder renderer/ has an index.html too, but no build.
  return candidates.find((p) => fs.existsSync(path.join(p, 'assets'))) ?? candidates[0];
}
