// Conversations and the active conversation's messages, kept in step with the back end:
// calls change them, `chat.token` grows the streaming reply, `chat.done` replaces it with the
// stored message. Errors are thrown to the caller (the view shows a toast).
import type { Conversation, Message, SamplingSettings } from '../../../electron/shared/contract';
import { api, type EventPayload } from './api';

const byRecent = (a: Conversation, b: Conversation) =>
  b.updatedAt.localeCompare(a.updatedAt) || b.createdAt.localeCompare(a.createdAt);

class Chat {
  conversations = $state<Conversation[]>([]);
  loaded = $state(false);
  activeId = $state<string | null>(null);
  messages = $state<Message[]>([]);
  loadingMessages = $state(false);

  active = $derived(this.conversations.find((c) => c.id === this.activeId) ?? null);
  /** Visible turns (a stored system message, if any, is shown in the settings panel instead). */
  turns = $derived(this.messages.filter((m) => m.role !== 'system'));
  generating = $derived(this.messages.some((m) => m.status === 'streaming'));
  lastAssistantId = $derived(this.turns.findLast((m) => m.role === 'assistant')?.id ?? null);

  // Events can overtake the call that announced the message (a fast model finishes before the
  // HTTP answer arrives): keep what came early and apply it when the message shows up.
  private early = new Map<string, string>();
  private finals = new Map<string, Message>();
  private loadSeq = 0;

  constructor() {
    api.on('chat.token', (p) => this.onToken(p));
    api.on('chat.done', (p) => this.onDone(p));
  }

  /** Loads the list and opens the most recent conversation (or keeps the open one). */
  async load(): Promise<void> {
    const list = await api.call('chat.list', {});
    this.conversations = [...list].sort(byRecent);
    this.loaded = true;
    const keep = this.activeId && this.conversations.some((c) => c.id === this.activeId);
    await this.select(keep ? this.activeId : (this.conversations[0]?.id ?? null));
  }

  async refreshList(): Promise<void> {
    const list = await api.call('chat.list', {});
    this.conversations = [...list].sort(byRecent);
  }

  async select(id: string | null): Promise<void> {
    this.activeId = id;
    this.early.clear();
    this.finals.clear();
    const seq = ++this.loadSeq;
    if (!id) {
      this.messages = [];
      return;
    }
    this.loadingMessages = true;
    try {
      const list = await api.call('chat.messages', { conversationId: id });
      if (seq !== this.loadSeq) return;
      // Tokens that raced this load are not applied (the snapshot may already hold them);
      // a reply still streaming is made whole by its chat.done.
      this.messages = list;
    } finally {
      if (seq === this.loadSeq) this.loadingMessages = false;
    }
  }

  async create(modelId?: string | null): Promise<Conversation> {
    const c = await api.call('chat.create', modelId ? { modelId } : {});
    this.conversations = [c, ...this.conversations.filter((x) => x.id !== c.id)];
    this.activeId = c.id;
    this.loadSeq++;
    this.messages = [];
    return c;
  }

  async rename(id: string, title: string): Promise<void> {
    this.put(await api.call('chat.rename', { id, title }));
  }

  async remove(id: string): Promise<void> {
    await api.call('chat.delete', { id });
    const i = this.conversations.findIndex((c) => c.id === id);
    this.conversations = this.conversations.filter((c) => c.id !== id);
    if (this.activeId === id) {
      const next = this.conversations[Math.min(i, this.conversations.length - 1)] ?? null;
      await this.select(next?.id ?? null);
    }
  }

  async update(
    id: string,
    patch: { modelId?: string | null; systemPrompt?: string; settings?: Partial<SamplingSettings> },
  ): Promise<void> {
    this.put(await api.call('chat.update', { id, ...patch }));
  }

  async send(content: string): Promise<void> {
    const conversationId = this.activeId;
    if (!conversationId) throw new Error('No conversation is open.');
    const { userMessage, assistantMessage } = await api.call('chat.send', { conversationId, content });
    if (this.activeId === conversationId) {
      this.messages = [...this.messages, userMessage, this.withEarly(assistantMessage)];
    }
    this.afterReplyStarted();
  }

  async regenerate(): Promise<void> {
    const conversationId = this.activeId;
    if (!conversationId) return;
    const { assistantMessage } = await api.call('chat.regenerate', { conversationId });
    if (this.activeId !== conversationId) return;
    const last = this.messages.at(-1);
    const kept = last?.role === 'assistant' ? this.messages.slice(0, -1) : this.messages;
    this.messages = [...kept, this.withEarly(assistantMessage)];
  }

  async editAndResend(messageId: string, content: string): Promise<void> {
    const conversationId = this.activeId;
    const { userMessage, assistantMessage } = await api.call('chat.editAndResend', { messageId, content });
    if (this.activeId !== conversationId) return;
    const i = this.messages.findIndex((m) => m.id === messageId);
    const before = i >= 0 ? this.messages.slice(0, i) : this.messages.filter((m) => m.position < userMessage.position);
    this.messages = [...before, userMessage, this.withEarly(assistantMessage)];
    this.afterReplyStarted();
  }

  async stop(): Promise<void> {
    if (this.activeId) await api.call('chat.stop', { conversationId: this.activeId });
  }

  private put(c: Conversation): void {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = c;
    else this.conversations = [c, ...this.conversations];
  }

  /** The back end may retitle the conversation from the first message and bumps updatedAt. */
  private afterReplyStarted(): void {
    void this.refreshList().catch(() => {});
  }

  private withEarly(m: Message): Message {
    const final = this.finals.get(m.id);
    if (final) {
      this.finals.delete(m.id);
      this.early.delete(m.id);
      return final;
    }
    const extra = this.early.get(m.id);
    if (extra) {
      this.early.delete(m.id);
      return { ...m, content: m.content + extra };
    }
    return m;
  }

  private onToken(p: EventPayload<'chat.token'>): void {
    if (p.conversationId !== this.activeId) return;
    const m = this.messages.find((x) => x.id === p.messageId);
    if (m) {
      m.content += p.text;
    } else {
      this.early.set(p.messageId, (this.early.get(p.messageId) ?? '') + p.text);
    }
  }

  private onDone(p: EventPayload<'chat.done'>): void {
    this.early.delete(p.message.id);
    if (p.conversationId === this.activeId) {
      const i = this.messages.findIndex((x) => x.id === p.message.id);
      if (i >= 0) this.messages[i] = p.message;
      else this.finals.set(p.message.id, p.message);
    }
    const c = this.conversations.find((x) => x.id === p.conversationId);
    if (c) void this.refreshList().catch(() => {});
  }
}

export const chat = new Chat();
