// The engine process under Electron: a utilityProcess (Chromium's process model, no Node
// integration in the renderer), speaking the same messages as the Node fork.
import { utilityProcess } from 'electron';
import type { EngineSpawner } from '../core/engine/engine-channel';
import type { EngineToHost } from '../shared/engine-protocol';

export const utilitySpawner: EngineSpawner = (entry, env) => {
  const child = utilityProcess.fork(entry, [], { env, serviceName: 'Paddock engine', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m: unknown) => l(m as EngineToHost)),
    onExit: (l) => child.on('exit', (code: number) => l(code, null)),
    kill: () => {
      child.kill();
    },
  };
};
