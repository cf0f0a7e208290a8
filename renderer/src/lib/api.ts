// The renderer's only door to the back end. Everything the UI does goes through `api.call` and
// `api.on`, typed by the contract. Two transports sit behind it:
//  - Electron: `window.paddock`, exposed by the preload (contextBridge).
//  - Browser mode: HTTP POST /api/call/<name> + a WebSocket at /api/events, authenticated with the
//    per-launch token that `paddock serve` puts in the URL (?token=...).
// A dev-only fake (?mock=1, `vite dev` only) exists for working on the UI without a back end.
import type {
  CallName,
  CallRequest,
  CallResponse,
  EventName,
  EventPayload,
} from '../../../electron/shared/contract';

export type { CallName, CallRequest, CallResponse, EventName, EventPayload };

/** An error from the back end (or the transport), with a stable code. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/**
 * `connected`: calls and events flow. `connecting`: first connection. `reconnecting`: the event
 * stream dropped (server restart) and is being retried. `unauthorized`: no or a stale token.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized';

export type Listener = (payload: unknown) => void;

export interface Transport {
  readonly kind: 'electron' | 'browser' | 'mock';
  call(name: string, request: unknown): Promise<unknown>;
  on(event: string, listener: Listener): () => void;
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

/** The preload resolves with the wire reply: contextBridge would strip `code` from a thrown Error. */
type WireReply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

interface PaddockBridge {
  call(name: string, request: unknown): Promise<WireReply>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

declare global {
  interface Window {
    paddock?: PaddockBridge;
  }
}

// ---------------------------------------------------------------------------------------------
// Electron: the preload bridge. Errors keep the server's message and `code`.

function electronTransport(bridge: PaddockBridge): Transport {
  return {
    kind: 'electron',
    async call(name, request) {
      let reply: WireReply;
      try {
        reply = await bridge.call(name, request);
      } catch (e) {
        throw toApiError(e);
      }
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message);
      return reply.result;
    },
    on: (event, listener) => bridge.on(event, listener),
    connection: () => 'connected',
    onConnection: () => () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// Browser mode: token from the URL (kept in sessionStorage), HTTP calls, WebSocket events.

const TOKEN_KEY = 'paddock.token';

function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      /* storage disabled: the token lives for this page only */
    }
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function browserTransport(): Transport {
  const token = takeToken();
  const listeners = new Map<string, Set<Listener>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = token ? 'connecting' : 'unauthorized';
  let socket: WebSocket | null = null;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const l of stateListeners) l(next);
  };

  const connect = () => {
    if (!token) return;
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}/api/events?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setState('connected');
    };
    ws.onmessage = (ev) => {
      let msg: { event?: unknown; payload?: unknown };
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg.event !== 'string') return;
      const set = listeners.get(msg.event);
      if (set) for (const l of [...set]) l(msg.payload);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (state === 'connected') setState('reconnecting');
      void retry();
    };
  };

  // The browser hides why a WebSocket upgrade failed, so ask over HTTP: a 401 means the token
  // is stale (the server restarted with a new one) and retrying with it is pointless.
  const retry = async () => {
    if (attempt > 0 && (await tokenRefused())) {
      setState('unauthorized');
      return;
    }
    if (state !== 'connecting' || attempt >= 2) setState('reconnecting');
    const delay = Math.min(5000, 250 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  };

  const tokenRefused = async (): Promise<boolean> => {
    try {
      const res = await fetch('/api/call/app.info', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: '{}',
      });
      return res.status === 401;
    } catch {
      return false; // server down: keep retrying
    }
  };

  // Reconnect promptly when the page comes back to the foreground.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !socket && token && state !== 'unauthorized') {
      clearTimeout(retryTimer);
      attempt = 0;
      connect();
    }
  });

  connect();

  return {
    kind: 'browser',
    async call(name, request) {
      if (!token) {
        throw new ApiError('UNAUTHORIZED', 'No access token: open the URL printed by `paddock serve`.');
      }
      let res: Response;
      try {
        res = await fetch(`/api/call/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(request ?? {}),
        });
      } catch {
        throw new ApiError('NETWORK', `Can't reach the Paddock server (${name}).`);
      }
      let body: unknown = null;
      try {
        body = await res.json();
      } catch {
        /* not JSON: handled below */
      }
      const b = body as { ok?: boolean; result?: unknown; error?: { code?: string; message?: string } } | null;
      if (res.ok && b && b.ok === true) return b.result;
      if (res.status === 401) setState('unauthorized');
      const code = b?.error?.code ?? (res.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL');
      const message = b?.error?.message ?? `${name} failed: HTTP ${res.status} ${res.statusText}`.trim();
      throw new ApiError(code, message);
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    connection: () => state,
    onConnection(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
  };
}

function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { code?: unknown; message?: unknown } | null;
  let message = typeof err?.message === 'string' ? err.message : String(e);
  // Electron prefixes errors thrown across ipcRenderer.invoke.
  message = message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '');
  return new ApiError(typeof err?.code === 'string' ? err.code : 'INTERNAL', message);
}

// ---------------------------------------------------------------------------------------------
// Choosing the transport. The fake is loaded lazily and only in `vite dev`.

function chooseTransport(): Promise<Transport> {
  // `import.meta.env.DEV` is false in `vite build`: this branch, and the fake, are dropped.
  if (import.meta.env.DEV && new URLSearchParams(window.location.search).has('mock')) {
    return import('./mock').then((m) => m.mockTransport());
  }
  return Promise.resolve(window.paddock ? electronTransport(window.paddock) : browserTransport());
}

const transportReady: Promise<Transport> = chooseTransport();

let current: Transport | null = null;
void transportReady.then((t) => (current = t));

export const api = {
  /** Calls the back end; rejects with an ApiError (message from the server, `code`). */
  async call<N extends CallName>(name: N, request: CallRequest<N>): Promise<CallResponse<N>> {
    const t = current ?? (await transportReady);
    try {
      return (await t.call(name, request)) as CallResponse<N>;
    } catch (e) {
      throw toApiError(e);
    }
  },

  /** Subscribes to a pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let off: (() => void) | null = null;
    let cancelled = false;
    void transportReady.then((t) => {
      if (!cancelled) off = t.on(event, listener as Listener);
    });
    return () => {
      cancelled = true;
      off?.();
    };
  },

  /** The event stream's state (always `connected` in Electron). */
  connection(): ConnectionState {
    return current?.connection() ?? 'connecting';
  },

  onConnection(listener: (state: ConnectionState) => void): () => void {
    let off: (() => void) | null = null;
    let cancelled = false;
    void transportReady.then((t) => {
      if (cancelled) return;
      listener(t.connection());
      off = t.onConnection(listener);
    });
    return () => {
      cancelled = true;
      off?.();
    };
  },

  /** Which transport is in use: `electron`, `browser` or the dev-only `mock`. */
  async kind(): Promise<Transport['kind']> {
    return (await transportReady).kind;
  },
};

/** A readable message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
