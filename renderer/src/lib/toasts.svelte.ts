// Dismissible notifications. Errors stay until dismissed (they may explain what just failed);
// at most a few are kept so a burst of failures doesn't bury the screen.
import { errorMessage } from './api';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

const MAX = 4;
let nextId = 1;

class Toasts {
  items = $state<Toast[]>([]);

  error(e: unknown, context?: string): void {
    const text = errorMessage(e);
    this.push('error', context ? `${context}: ${text}` : text);
  }

  info(message: string): void {
    const t = this.push('info', message);
    setTimeout(() => this.dismiss(t.id), 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }

  private push(kind: Toast['kind'], message: string): Toast {
    // The same message twice in a row: keep one.
    const last = this.items.at(-1);
    if (last && last.kind === kind && last.message === message) return last;
    const t = { id: nextId++, kind, message };
    this.items = [...this.items, t].slice(-MAX);
    return t;
  }
}

export const toasts = new Toasts();
