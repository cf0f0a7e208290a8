// DEV ONLY (`vite dev` + ?mock=1): an in-memory back end that speaks the contract, so the UI can be
// built and looked at without the engine. Never part of a production build (see api.ts).
import type { Conversation, Message, ModelRecord, SamplingSettings } from '../../../electron/shared/contract';
import { ApiError, type ConnectionState, type Listener, type Transport } from './api';

const now = () => new Date().toISOString();
let seq = 0;
const id = (p: string) => `${p}_${(++seq).toString(36)}`;

const defaults = (): SamplingSettings => ({
  temperature: 0.8, topP: 0.95, topK: 40, maxTokens: 256, seed: null, stop: [],
  minP: 0, repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0, penaltyLastN: 64, logitBias: [],
  contextLength: null, threads: null, contextPolicy: 'truncate',
});

const bundled: ModelRecord = {
  id: 'm_stories260k',
  name: 'stories260K',
  path: '/opt/paddock/resources/models/stories260K.gguf',
  tokenizerPath: null,
  format: 'gguf',
  architecture: 'llama',
  parameterCount: 263_488,
  tensorType: 'F32',
  contextLength: 512,
  vocabSize: 512,
  embeddingLength: 64,
  layerCount: 5,
  headCount: 8,
  headCountKv: 4,
  fileBytes: 1_185_376,
  bundled: true,
  addedAt: now(),
  chatTemplate: {
    id: 'chatml',
    name: 'ChatML (plain text)',
    fromModelFile: false,
    source: null,
    example: '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n',
  },
  metadata: {
    'general.architecture': 'llama',
    'general.name': 'stories260K',
    'llama.context_length': 512,
    'llama.embedding_length': 64,
    'llama.block_count': 5,
    'llama.feed_forward_length': 172,
    'llama.attention.head_count': 8,
    'llama.attention.head_count_kv': 4,
    'llama.rope.freq_base': 10000,
    'llama.attention.layer_norm_rms_epsilon': 0.00001,
    'tokenizer.ggml.model': 'llama',
  },
};

const stories = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.',
  'Tom and his dog went to the beach. The sun was warm and the sand was soft.\nThey built a castle and a tall tower. Tom was very happy.',
  'The little bird wanted to fly high. "I can do it!" he said. His mom smiled and said, "Be brave, little one."',
];

export function mockTransport(): Transport {
  const models: ModelRecord[] = [bundled];
  const conversations: Conversation[] = [];
  const messages = new Map<string, Message[]>();
  const listeners = new Map<string, Set<Listener>>();
  const running = new Map<string, { timer: ReturnType<typeof setInterval>; msg: Message }>();

  const emit = (event: string, payload: unknown) => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };
  const conv = (cid: string) => {
    const c = conversations.find((x) => x.id === cid);
    if (!c) throw new ApiError('NOT_FOUND', `No conversation ${cid}`);
    return c;
  };
  const msgs = (cid: string) => messages.get(cid) ?? messages.set(cid, []).get(cid)!;
  const makeMsg = (c: Conversation, role: Message['role'], content: string): Message => ({
    id: id('msg'),
    conversationId: c.id,
    position: msgs(c.id).length,
    role,
    content,
    status: role === 'assistant' ? 'streaming' : 'complete',
    error: null,
    modelId: role === 'assistant' ? c.modelId : null,
    settings: role === 'assistant' ? { ...c.settings } : null,
    stats: null,
    createdAt: now(),
  });

  const finish = (cid: string, status: Message['status'], error: string | null, reason: string) => {
    const r = running.get(cid);
    if (!r) return;
    clearInterval(r.timer);
    running.delete(cid);
    r.msg.status = status;
    r.msg.error = error;
    r.msg.stats = {
      promptTokens: 24,
      completionTokens: r.msg.content.split(/\s+/).length,
      timeToFirstTokenMs: 12,
      tokensPerSecond: 412.3,
      seed: 1234,
      stopReason: reason as never,
      contextPolicy: r.msg.settings?.contextPolicy ?? 'truncate',
      truncatedTokens: 0,
      contextShifts: 0,
      shiftedTokens: 0,
    };
    emit('engine.status', { state: 'idle', detail: null });
    emit('chat.done', { conversationId: cid, message: { ...r.msg } });
  };

  const start = (c: Conversation): Message => {
    if (!c.modelId) throw new ApiError('BAD_REQUEST', 'Choose a model for this conversation first.');
    const msg = makeMsg(c, 'assistant', '');
    msgs(c.id).push(msg);
    const words = (stories[seq % stories.length] ?? '').split(/(?<=\s)/);
    let i = 0;
    emit('engine.status', { state: 'busy', detail: 'generating' });
    const timer = setInterval(() => {
      if (i >= words.length || i >= c.settings.maxTokens) return finish(c.id, 'complete', null, 'eos');
      const text = words[i++] ?? '';
      msg.content += text;
      emit('chat.token', { conversationId: c.id, messageId: msg.id, text });
    }, 60);
    running.set(c.id, { timer, msg });
    c.updatedAt = now();
    return { ...msg };
  };

  const handlers: Record<string, (r: any) => unknown> = {
    'app.info': () => ({ version: '0.1.0-mock', mode: 'browser', dataDir: '~/.paddock', defaultTemplate: 'ChatML (plain text)', canPickFiles: false }),
    'app.pickFile': () => ({ path: null }),
    'models.list': () => models,
    'models.import': (r: { path: string }) => {
      if (!r.path.endsWith('.gguf')) {
        throw new ApiError('BAD_MODEL_FILE', `${r.path}: not a GGUF file (expected magic "GGUF", found "\\x7fELF")`);
      }
      const m: ModelRecord = { ...bundled, id: id('m'), name: r.path.split('/').pop()!.replace(/\.gguf$/, ''), path: r.path, bundled: false, parameterCount: 1_100_048_384, tensorType: 'Q8_0', contextLength: 2048, vocabSize: 32000, layerCount: 22, headCount: 32, headCountKv: 4, fileBytes: 1_170_000_000, addedAt: now() };
      models.push(m);
      return m;
    },
    'models.remove': (r: { id: string }) => {
      const i = models.findIndex((m) => m.id === r.id);
      if (i >= 0) models.splice(i, 1);
      return { ok: true };
    },
    'chat.list': () => [...conversations].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)),
    'chat.create': (r: { title?: string; modelId?: string; systemPrompt?: string }) => {
      const c: Conversation = { id: id('c'), title: r.title ?? 'New chat', modelId: r.modelId ?? null, systemPrompt: r.systemPrompt ?? '', settings: defaults(), createdAt: now(), updatedAt: now() };
      conversations.push(c);
      return c;
    },
    'chat.rename': (r: { id: string; title: string }) => Object.assign(conv(r.id), { title: r.title }),
    'chat.update': (r: { id: string; modelId?: string | null; systemPrompt?: string; settings?: Partial<SamplingSettings> }) => {
      const c = conv(r.id);
      if (r.modelId !== undefined) c.modelId = r.modelId;
      if (r.systemPrompt !== undefined) c.systemPrompt = r.systemPrompt;
      if (r.settings) c.settings = { ...c.settings, ...r.settings };
      return c;
    },
    'chat.delete': (r: { id: string }) => {
      conversations.splice(conversations.findIndex((c) => c.id === r.id), 1);
      return { ok: true };
    },
    'chat.messages': (r: { conversationId: string }) => msgs(r.conversationId).map((m) => ({ ...m })),
    'chat.send': (r: { conversationId: string; content: string }) => {
      const c = conv(r.conversationId);
      if (running.has(c.id)) throw new ApiError('BUSY', 'A reply is already being generated.');
      const userMessage = makeMsg(c, 'user', r.content);
      msgs(c.id).push(userMessage);
      if (c.title === 'New chat') c.title = r.content.slice(0, 40);
      return { userMessage, assistantMessage: start(c) };
    },
    'chat.regenerate': (r: { conversationId: string }) => {
      const c = conv(r.conversationId);
      const list = msgs(c.id);
      if (list.at(-1)?.role === 'assistant') list.pop();
      return { assistantMessage: start(c) };
    },
    'chat.editAndResend': (r: { messageId: string; content: string }) => {
      for (const [cid, list] of messages) {
        const i = list.findIndex((m) => m.id === r.messageId);
        if (i < 0) continue;
        list.splice(i + 1);
        list[i] = { ...list[i]!, content: r.content };
        return { userMessage: list[i], assistantMessage: start(conv(cid)) };
      }
      throw new ApiError('NOT_FOUND', 'No such message');
    },
    'chat.stop': (r: { conversationId: string }) => {
      finish(r.conversationId, 'stopped', null, 'user_stop');
      return { ok: true };
    },
  };

  return {
    kind: 'mock',
    async call(name, request) {
      await new Promise((r) => setTimeout(r, 30));
      const h = handlers[name];
      if (!h) throw new ApiError('BAD_REQUEST', `Unknown call ${name}`);
      return structuredClone(h(request));
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    connection: (): ConnectionState => 'connected',
    onConnection: () => () => {},
  };
}
