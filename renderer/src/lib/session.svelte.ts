// App-wide state that isn't a view's: app info, the event stream's connection, the engine's
// status and the current view (kept in the URL hash so a reload stays where it was).
import type { CallResponse, EventPayload } from './api';
import { api, type ConnectionState } from './api';

export const VIEWS = ['chat', 'models', 'datasets', 'train', 'compare'] as const;
export type View = (typeof VIEWS)[number];
export type EngineStatus = EventPayload<'engine.status'>;

function viewFromHash(): View {
  const name = window.location.hash.slice(1);
  return (VIEWS as readonly string[]).includes(name) ? (name as View) : 'chat';
}

class Session {
  info = $state<CallResponse<'app.info'> | null>(null);
  connection = $state<ConnectionState>('connecting');
  engine = $state<EngineStatus | null>(null);
  view = $state<View>(viewFromHash());

  private reconnectHandlers = new Set<() => void>();

  constructor() {
    window.addEventListener('hashchange', () => (this.view = viewFromHash()));
    api.on('engine.status', (s) => (this.engine = s));
    api.onConnection((s) => {
      const was = this.connection;
      this.connection = s;
      // Back after a drop (e.g. the server restarted): events were missed, so views reload.
      if (s === 'connected' && was === 'reconnecting') for (const h of this.reconnectHandlers) h();
    });
  }

  /** Runs `handler` whenever the event stream comes back after a drop. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  go(view: View): void {
    this.view = view;
    const hash = `#${view}`;
    if (window.location.hash !== hash) {
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search + hash);
    }
  }

  async loadInfo(): Promise<void> {
    this.info = await api.call('app.info', {});
  }
}

export const session = new Session();
