// Conversations and replies: stores every message, streams replies from the engine, and keeps
// whatever was generated when a reply is stopped or the engine dies mid-way.
import { randomInt } from 'node:crypto';
import {
  SamplingSettings,
  defaultSamplingSettings,
  type Conversation,
  type EventName,
  type EventPayload,
  type Message,
} from '../../shared/contract';
import type { ConversationsRepo } from '../db/conversations-repo';
import type { MessagesRepo } from '../db/messages-repo';
import { newId } from '../db/ids';
import type { EngineClient } from '../engine/engine-client';
import { PaddockError } from '../errors';
import type { ModelRegistry } from '../models/model-registry';
import type { SystemService } from '../system/system-service';
import { promptText, renderPromptParts } from './prompt-parts';
import { templateForModel } from './templates';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

const DEFAULT_TITLE = 'New chat';
/** Partial replies are written to SQLite at most this often while streaming. */
const SAVE_EVERY_MS = 200;

interface ActiveReply {
  jobId: string;
  done: Promise<Message>;
}

export class ChatService {
  private readonly active = new Map<string, ActiveReply>();

  constructor(
    private readonly conversations: ConversationsRepo,
    private readonly messages: MessagesRepo,
    private readonly models: ModelRegistry,
    private readonly engine: EngineClient,
    private readonly emit: Emit,
    /** Device settings for the engine's context and where the backend it reports goes; absent in older tests (engine defaults). */
    private readonly devices?: Pick<SystemService, 'generateOptions' | 'recordBackend'>,
  ) {}

  list(): Conversation[] {
    return this.conversations.list();
  }

  create(init: { title?: string; modelId?: string; systemPrompt?: string }): Conversation {
    if (init.modelId) this.models.get(init.modelId);
    return this.conversations.create({
      title: init.title?.trim() || DEFAULT_TITLE,
      modelId: init.modelId ?? this.models.defaultModel()?.id ?? null,
      systemPrompt: init.systemPrompt ?? '',
      settings: defaultSamplingSettings(),
    });
  }

  rename(id: string, title: string): Conversation {
    return this.update(id, { title: title.trim() });
  }

  update(
    id: string,
    patch: { title?: string; modelId?: string | null; systemPrompt?: string; settings?: Partial<SamplingSettings> },
  ): Conversation {
    const cur = this.get(id);
    if (patch.modelId) this.models.get(patch.modelId);
    const settings = patch.settings ? SamplingSettings.parse({ ...cur.settings, ...patch.settings }) : undefined;
    return this.conversations.update(id, {
      ...(patch.title !== undefined && { title: patch.title }),
      ...(patch.modelId !== undefined && { modelId: patch.modelId }),
      ...(patch.systemPrompt !== undefined && { systemPrompt: patch.systemPrompt }),
      ...(settings && { settings }),
    })!;
  }

  async remove(id: string): Promise<void> {
    this.get(id);
    await this.stop(id);
    this.conversations.remove(id);
  }

  listMessages(conversationId: string): Message[] {
    this.get(conversationId);
    return this.messages.list(conversationId);
  }

  send(conversationId: string, content: string): { userMessage: Message; assistantMessage: Message } {
    const conv = this.get(conversationId);
    this.assertIdle(conversationId);
    const userMessage = this.messages.append(conversationId, { role: 'user', content, status: 'complete' });
    if (conv.title === DEFAULT_TITLE) this.conversations.update(conversationId, { title: titleFrom(content) });
    return { userMessage, assistantMessage: this.startReply(conversationId) };
  }

  regenerate(conversationId: string): { assistantMessage: Message } {
    this.get(conversationId);
    this.assertIdle(conversationId);
    const all = this.messages.list(conversationId);
    const last = all[all.length - 1];
    if (!last) throw new PaddockError('BAD_REQUEST', 'There is no message to reply to.');
    if (last.role === 'assistant') this.messages.remove(last.id);
    return { assistantMessage: this.startReply(conversationId) };
  }

  editAndResend(messageId: string, content: string): { userMessage: Message; assistantMessage: Message } {
    const msg = this.messages.get(messageId);
    if (!msg) throw new PaddockError('NOT_FOUND', `No message with id ${messageId}.`);
    if (msg.role !== 'user') throw new PaddockError('BAD_REQUEST', 'Only user messages can be edited and resent.');
    this.assertIdle(msg.conversationId);
    this.messages.setContent(messageId, content);
    this.messages.removeAfter(msg.conversationId, msg.position);
    return { userMessage: this.messages.get(messageId)!, assistantMessage: this.startReply(msg.conversationId) };
  }

  async stop(conversationId: string): Promise<void> {
    const reply = this.active.get(conversationId);
    if (!reply) return;
    await this.engine.stop(reply.jobId).catch(() => undefined);
    await reply.done;
  }

  /** Resolves when the conversation's current reply (if any) has ended. */
  async settled(conversationId: string): Promise<Message | undefined> {
    return this.active.get(conversationId)?.done;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id)));
  }

  private get(id: string): Conversation {
    const c = this.conversations.get(id);
    if (!c) throw new PaddockError('NOT_FOUND', `No conversation with id ${id}.`);
    return c;
  }

  private assertIdle(conversationId: string): void {
    if (this.active.has(conversationId)) {
      throw new PaddockError('BUSY', 'A reply is still being generated in this conversation; stop it first.');
    }
  }

  private startReply(conversationId: string): Message {
    const conv = this.get(conversationId);
    const model = conv.modelId ? this.models.get(conv.modelId) : this.models.defaultModel();
    if (!model) throw new PaddockError('BAD_REQUEST', 'No model is available: import one in the Models view.');
    const history = this.messages.list(conversationId).filter((m) => m.role !== 'system');
    const settings = { ...conv.settings, seed: conv.settings.seed ?? randomInt(0, 2 ** 31) };
    const template = templateForModel(model.metadata);
    // Parts, so the engine parses special tokens in the template's text and never in messages.
    const parts = renderPromptParts(
      template,
      [...(conv.systemPrompt.trim() ? [{ role: 'system' as const, content: conv.systemPrompt }] : []), ...history],
      { addGenerationPrompt: true },
    );
    const assistant = this.messages.append(conversationId, {
      role: 'assistant',
      content: '',
      status: 'streaming',
      modelId: model.id,
      settings,
    });
    this.conversations.touch(conversationId);
    const jobId = newId();
    let text = '';
    let lastSave = Date.now();
    const onText = (delta: string) => {
      text += delta;
      this.emit('chat.token', { conversationId, messageId: assistant.id, text: delta });
      if (Date.now() - lastSave >= SAVE_EVERY_MS) {
        this.messages.setContent(assistant.id, text);
        lastSave = Date.now();
      }
    };
    const run = this.engine
      .generate(
        {
          jobId,
          modelPath: model.path,
          tokenizerPath: model.tokenizerPath,
          prompt: promptText(parts),
          parts,
          settings: { ...settings, stop: [...settings.stop, ...template.stopStrings] },
          ...(settings.contextLength !== null && { contextLength: settings.contextLength }),
          ...(settings.threads !== null && { threads: settings.threads }),
          ...this.devices?.generateOptions(),
        },
        onText,
      )
      .then(
        (r) => {
          if (r.backend) this.devices?.recordBackend(r.backend);
          return this.messages.finish(assistant.id, {
            content: r.text,
            status: r.stats.stopReason === 'user_stop' ? 'stopped' : 'complete',
            error: null,
            stats: r.stats,
          });
        },
        (err: { code?: string; message?: string }) =>
          this.messages.finish(assistant.id, {
            content: text,
            status: err?.code === 'ENGINE_CRASHED' ? 'interrupted' : 'error',
            error: err?.message ?? String(err),
            stats: null,
          }),
      )
      .then((message) => {
        this.active.delete(conversationId);
        this.emit('chat.done', { conversationId, message });
        return message;
      });
    this.active.set(conversationId, { jobId, done: run });
    return assistant;
  }
}

function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0];
  return line.length > 48 ? `${line.slice(0, 47)}…` : line || DEFAULT_TITLE;
}
