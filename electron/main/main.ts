// Electron main: one window, IPC handlers derived from the contract, the engine in a utilityProcess.
import path from 'node:path';
import { BrowserWindow, app, dialog, ipcMain, session } from 'electron';
import { PaddockCore } from '../core/app';
import { engineEntry } from '../core/engine/engine-channel';
import { ProcessEngine } from '../core/engine/process-engine';
import { bundledDatasetsDir, bundledModelFile, rendererDir } from '../core/paths';
import { contentSecurityPolicy } from '../web/static-files';
import { appVersion } from '../cli/version';
import { utilitySpawner } from './utility-spawner';

let core: PaddockCore | undefined;

async function createWindow(): Promise<void> {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    title: 'Paddock',
    backgroundColor: '#111418',
    webPreferences: {
      preload: path.join(__dirname, '../preload/preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  core = await new PaddockCore({
    dataDir: process.env.PADDOCK_HOME || app.getPath('userData'),
    engine: new ProcessEngine(utilitySpawner, engineEntry()),
    mode: 'electron',
    version: appVersion(),
    bundledModel: bundledModelFile(),
    bundledDatasets: bundledDatasetsDir(),
    pickFile: async (o) => {
      const r = await dialog.showOpenDialog(win, {
        title: o.title ?? 'Open a model file',
        properties: ['openFile'],
        filters: o.extensions ? [{ name: 'Model files', extensions: o.extensions }] : undefined,
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  }).start();
  core.onEvent((event, payload) => {
    if (!win.isDestroyed()) win.webContents.send('paddock:event', event, payload);
  });
  await win.loadFile(path.join(rendererDir(), 'index.html'));
}

ipcMain.handle('paddock:call', (_e, name: unknown, request: unknown) =>
  core ? core.call(String(name), request) : { ok: false, error: { code: 'INTERNAL', message: 'Paddock is still starting.' } },
);

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } });
  });
  return createWindow();
});

app.on('window-all-closed', async () => {
  await core?.close();
  app.quit();
});
