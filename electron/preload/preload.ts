// The only API the renderer gets: call(name, request) and on(event, listener) from the contract.
// Sandboxed preloads can require nothing but 'electron', so the contract is checked in main.
// call() resolves with the wire reply ({ok, result} or {ok:false, error:{code, message}}):
// contextBridge keeps only the message of a thrown Error, and the renderer needs the code.
import { contextBridge, ipcRenderer } from 'electron';
import type { CallName, CallRequest, CallResponse, EventName, EventPayload, WireError } from '../shared/contract';

type Reply<T> = { ok: true; result: T } | { ok: false; error: WireError };

const api = {
  call<N extends CallName>(name: N, request: CallRequest<N>): Promise<Reply<CallResponse<N>>> {
    return ipcRenderer.invoke('paddock:call', name, request) as Promise<Reply<CallResponse<N>>>;
  },
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const wrapped = (_e: unknown, name: string, payload: unknown) => {
      if (name === event) listener(payload as EventPayload<E>);
    };
    ipcRenderer.on('paddock:event', wrapped);
    return () => ipcRenderer.removeListener('paddock:event', wrapped);
  },
};

contextBridge.exposeInMainWorld('paddock', api);
export type PaddockBridge = typeof api;
