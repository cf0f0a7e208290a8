// The engine process's line to its host: Electron's utilityProcess parentPort, or Node's fork IPC.
import type { EngineToHost, HostToEngine } from '../shared/engine-protocol';

export interface HostPort {
  send(msg: EngineToHost): void;
  onMessage(listener: (msg: HostToEngine) => void): void;
}

interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function connectToHost(): HostPort {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (m) => parentPort.postMessage(m),
      onMessage: (l) => parentPort.on('message', (e) => l(e.data as HostToEngine)),
    };
  }
  if (process.send) {
    // The host is gone: nothing left to serve, and an orphaned engine would hold memory.
    process.on('disconnect', () => process.exit(0));
    return {
      send: (m) => process.send!(m),
      onMessage: (l) => process.on('message', (m) => l(m as HostToEngine)),
    };
  }
  throw new Error('The engine process must be started by the Paddock host (no IPC channel).');
}
