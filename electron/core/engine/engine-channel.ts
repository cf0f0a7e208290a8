// How the host starts the engine process: child_process.fork under Node; the Electron main
// process supplies a utilityProcess-based spawner instead (core never imports 'electron').
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EngineToHost, HostToEngine } from '../../shared/engine-protocol';

export interface EngineChannel {
  readonly pid: number | undefined;
  send(msg: HostToEngine): void;
  onMessage(listener: (msg: EngineToHost) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type EngineSpawner = (entry: string, env: NodeJS.ProcessEnv) => EngineChannel;

/** The engine entry next to this build: compiled JS in dist/, or the TS source under tsx. */
export function engineEntry(): string {
  const js = path.resolve(__dirname, '../../engine/main.js');
  if (fs.existsSync(js)) return js;
  return path.resolve(__dirname, '../../engine/main.ts');
}

export const forkSpawner: EngineSpawner = (entry, env) => {
  const execArgv = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = fork(entry, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    pid: child.pid,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (l) => child.on('message', (m) => l(m as EngineToHost)),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: () => {
      child.kill();
    },
  };
};
