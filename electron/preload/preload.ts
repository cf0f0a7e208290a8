// The only API the renderer gets: call(name, request) and on(event, listener) from the contract.
// Sandboxed preloads can require nothing but 'electron', so the contract is checked in main.
import { contextBridge, ipcRenderer } from 'electron';
import type { CallName, CallRequest, CallResponse, EventName, EventPayload, WireError } from '../shared/contract';

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

const api = {
  async call<N extends CallName>(name: N, request: CallRequest<N>): Promise<CallResponse<N>> {
    const reply = (await ipcRenderer.invoke('paddock:call', name, request)) as Reply;
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result as CallResponse<N>;
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
