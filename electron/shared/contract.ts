// The one contract: every call that crosses a process boundary (renderer <-> main/web host),
// with runtime-validated request and response schemas, and every pushed event.
// IPC handlers, the preload bridge, the web host and the renderer's api.ts are all derived from it.
import { z } from 'zod';

const samplingFields = {
  temperature: z.number().min(0).max(5),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0),
  maxTokens: z.number().int().min(1).max(32768),
  /** null: a fresh random seed per reply (the seed actually used is stored on the message). */
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullable(),
  stop: z.array(z.string().min(1)),
};

export const SamplingSettings = z.object({
  temperature: samplingFields.temperature.default(0.8),
  topP: samplingFields.topP.default(0.95),
  topK: samplingFields.topK.default(40),
  maxTokens: samplingFields.maxTokens.default(256),
  seed: samplingFields.seed.default(null),
  stop: samplingFields.stop.default([]),
});
/** A change to some settings: no defaults, so fields left out keep their stored values. */
export const SamplingSettingsPatch = z.object(samplingFields).partial();
export type SamplingSettings = z.output<typeof SamplingSettings>;
export const defaultSamplingSettings = (): SamplingSettings => SamplingSettings.parse({});

export const ModelFormat = z.enum(['gguf', 'llama2c']);

export const ModelRecord = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  /** llama2.c checkpoints need their tokenizer.bin beside the weights. */
  tokenizerPath: z.string().nullable(),
  format: ModelFormat,
  architecture: z.string(),
  parameterCount: z.number().int(),
  tensorType: z.string(),
  contextLength: z.number().int(),
  vocabSize: z.number().int(),
  embeddingLength: z.number().int(),
  layerCount: z.number().int(),
  headCount: z.number().int(),
  headCountKv: z.number().int(),
  fileBytes: z.number().int(),
  bundled: z.boolean(),
  addedAt: z.string(),
  /** What the file itself says (GGUF key/values, llama2.c header), scalars only. */
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type ModelRecord = z.output<typeof ModelRecord>;

export const MessageRole = z.enum(['system', 'user', 'assistant']);
export const MessageStatus = z.enum(['complete', 'streaming', 'stopped', 'interrupted', 'error']);

export const GenerationStats = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  timeToFirstTokenMs: z.number(),
  tokensPerSecond: z.number(),
  seed: z.number().int(),
  stopReason: z.enum(['eos', 'max_tokens', 'stop_string', 'user_stop', 'context_full', 'error']),
});
export type GenerationStats = z.output<typeof GenerationStats>;

export const Message = z.object({
  id: z.string(),
  conversationId: z.string(),
  position: z.number().int(),
  role: MessageRole,
  content: z.string(),
  status: MessageStatus,
  error: z.string().nullable(),
  modelId: z.string().nullable(),
  settings: SamplingSettings.nullable(),
  stats: GenerationStats.nullable(),
  createdAt: z.string(),
});
export type Message = z.output<typeof Message>;

export const Conversation = z.object({
  id: z.string(),
  title: z.string(),
  modelId: z.string().nullable(),
  systemPrompt: z.string(),
  settings: SamplingSettings,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.output<typeof Conversation>;

export const AppInfo = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser']),
  dataDir: z.string(),
  /** Name of the chat template used for models without one of their own. */
  defaultTemplate: z.string(),
  canPickFiles: z.boolean(),
});

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });
const Id = z.object({ id: z.string() });

export const contract = {
  'app.info': { request: Empty, response: AppInfo },
  /** Native file dialog (Electron only); browser mode answers null and the UI asks for a path. */
  'app.pickFile': {
    request: z.object({ title: z.string().optional(), extensions: z.array(z.string()).optional() }),
    response: z.object({ path: z.string().nullable() }),
  },

  'models.list': { request: Empty, response: z.array(ModelRecord) },
  'models.import': {
    request: z.object({ path: z.string().min(1), tokenizerPath: z.string().min(1).optional() }),
    response: ModelRecord,
  },
  'models.remove': { request: Id, response: Ok },

  'chat.list': { request: Empty, response: z.array(Conversation) },
  'chat.create': {
    request: z.object({
      title: z.string().optional(),
      modelId: z.string().optional(),
      systemPrompt: z.string().optional(),
    }),
    response: Conversation,
  },
  'chat.rename': { request: z.object({ id: z.string(), title: z.string().min(1) }), response: Conversation },
  'chat.update': {
    request: z.object({
      id: z.string(),
      modelId: z.string().nullable().optional(),
      systemPrompt: z.string().optional(),
      settings: SamplingSettingsPatch.optional(),
    }),
    response: Conversation,
  },
  'chat.delete': { request: Id, response: Ok },
  'chat.messages': { request: z.object({ conversationId: z.string() }), response: z.array(Message) },
  /** Appends the user message and starts the reply; tokens arrive as chat.token events. */
  'chat.send': {
    request: z.object({ conversationId: z.string(), content: z.string().min(1) }),
    response: z.object({ userMessage: Message, assistantMessage: Message }),
  },
  /** Replaces the last assistant reply with a new one. */
  'chat.regenerate': {
    request: z.object({ conversationId: z.string() }),
    response: z.object({ assistantMessage: Message }),
  },
  /** Changes a user message, drops everything after it and replies again. */
  'chat.editAndResend': {
    request: z.object({ messageId: z.string(), content: z.string().min(1) }),
    response: z.object({ userMessage: Message, assistantMessage: Message }),
  },
  'chat.stop': { request: z.object({ conversationId: z.string() }), response: Ok },
} as const;

export const events = {
  'chat.token': z.object({ conversationId: z.string(), messageId: z.string(), text: z.string() }),
  /** The reply ended (any status); carries the stored message. */
  'chat.done': z.object({ conversationId: z.string(), message: Message }),
  'engine.status': z.object({ state: z.enum(['idle', 'loading', 'busy', 'crashed', 'stopped']), detail: z.string().nullable() }),
} as const;

export type Contract = typeof contract;
export type CallName = keyof Contract;
export type CallRequest<N extends CallName> = z.input<Contract[N]['request']>;
export type CallResponse<N extends CallName> = z.output<Contract[N]['response']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export const callNames = Object.keys(contract) as CallName[];
export const eventNames = Object.keys(events) as EventName[];

/** Errors that cross the boundary: a stable code plus a message for people. */
export const ErrorCode = z.enum([
  'BAD_REQUEST',
  'NOT_FOUND',
  'BAD_MODEL_FILE',
  'ENGINE_CRASHED',
  'ENGINE_ERROR',
  'BUSY',
  'UNAUTHORIZED',
  'INTERNAL',
]);
export type ErrorCode = z.output<typeof ErrorCode>;
export const WireError = z.object({ code: ErrorCode, message: z.string() });
export type WireError = z.output<typeof WireError>;
