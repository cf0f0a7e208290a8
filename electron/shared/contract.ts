// The one contract: every call that crosses a process boundary (renderer <-> main/web host),
// with runtime-validated request and response schemas, and every pushed event.
// IPC handlers, the preload bridge, the web host and the renderer's api.ts are all derived from it.
import { z } from 'zod';
import { datasetsContract, datasetsEvents } from './contract-datasets';
import { gattContract, gattEvents } from './contract-gatt';
import { runsContract, runsEvents } from './contract-runs';
import { systemContract, systemEvents } from './contract-system';

const samplingFields = {
  temperature: z.number().min(0).max(5),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0),
  maxTokens: z.number().int().min(1).max(32768),
  /** null: a fresh random seed per reply (the seed actually used is stored on the message). */
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullable(),
  stop: z.array(z.string().min(1)),
  /** Drop tokens less likely than minP times the most likely one (0 = off). */
  minP: z.number().min(0).max(1),
  /** llama.cpp semantics over the last penaltyLastN tokens: positive logits divided, negative multiplied (1 = off). */
  repeatPenalty: z.number().gt(0).max(10),
  /** OpenAI semantics over the same window: logit -= count * frequencyPenalty + (count > 0) * presencePenalty. */
  frequencyPenalty: z.number().min(-2).max(2),
  presencePenalty: z.number().min(-2).max(2),
  penaltyLastN: z.number().int().min(0).max(4096),
  /**
   * Added to a token's logit; 'ban' removes it. `token` is what the user wrote: a token id
   * ("128009") or a text resolved with the model's tokenizer (every token of it gets the bias).
   */
  logitBias: z.array(z.object({ token: z.string().min(1), bias: z.union([z.number().min(-100).max(100), z.literal('ban')]) })),
  /** KV cache size in tokens; null = the model's own context length (capped by the engine). */
  contextLength: z.number().int().min(16).max(1 << 20).nullable(),
  /** Compute threads; null = the engine's choice (all cores). */
  threads: z.number().int().min(1).max(256).nullable(),
  /**
   * When the context is full: 'truncate' drops the oldest turns before a reply (the system
   * prompt stays); 'shift' also keeps generating when the KV cache fills mid-reply by discarding
   * the oldest half of the tokens after the kept prefix.
   */
  contextPolicy: z.enum(['truncate', 'shift']),
};

export const SamplingSettings = z.object({
  temperature: samplingFields.temperature.default(0.8),
  topP: samplingFields.topP.default(0.95),
  topK: samplingFields.topK.default(40),
  maxTokens: samplingFields.maxTokens.default(256),
  seed: samplingFields.seed.default(null),
  stop: samplingFields.stop.default([]),
  minP: samplingFields.minP.default(0),
  repeatPenalty: samplingFields.repeatPenalty.default(1),
  frequencyPenalty: samplingFields.frequencyPenalty.default(0),
  presencePenalty: samplingFields.presencePenalty.default(0),
  penaltyLastN: samplingFields.penaltyLastN.default(64),
  logitBias: samplingFields.logitBias.default([]),
  contextLength: samplingFields.contextLength.default(null),
  threads: samplingFields.threads.default(null),
  contextPolicy: samplingFields.contextPolicy.default('truncate'),
});
/** A change to some settings: no defaults, so fields left out keep their stored values. */
export const SamplingSettingsPatch = z.object(samplingFields).partial();
export type SamplingSettings = z.output<typeof SamplingSettings>;
export type LogitBiasEntry = SamplingSettings['logitBias'][number];
export type ContextPolicy = SamplingSettings['contextPolicy'];
export const defaultSamplingSettings = (): SamplingSettings => SamplingSettings.parse({});

/** hf: a Hugging Face folder (config.json + *.safetensors + tokenizer.json / tokenizer.model). */
export const ModelFormat = z.enum(['gguf', 'llama2c', 'hf']);

/** The chat template a model gets, for the Models view ("the UI says which template is in use"). */
export const ChatTemplateInfo = z.object({
  id: z.string(),
  name: z.string(),
  /** True when the template is the model file's own tokenizer.chat_template. */
  fromModelFile: z.boolean(),
  /** The Jinja source when the model file has one, else null (built-in templates are code). */
  source: z.string().nullable(),
  /** A short sample conversation rendered with it, so any template can be looked at. */
  example: z.string(),
});
export type ChatTemplateInfo = z.output<typeof ChatTemplateInfo>;

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
  /** Derived when listed (not stored): the template chats with this model use. */
  chatTemplate: ChatTemplateInfo,
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
  /** The policy in force for this reply. */
  contextPolicy: z.enum(['truncate', 'shift']).default('truncate'),
  /** Prompt tokens left out because the conversation did not fit (truncate policy). */
  truncatedTokens: z.number().int().default(0),
  /** Times the KV cache was shifted mid-reply (shift policy), and the tokens it discarded. */
  contextShifts: z.number().int().default(0),
  shiftedTokens: z.number().int().default(0),
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

  ...datasetsContract,
  ...runsContract,
  ...gattContract,
  ...systemContract,
} as const;

export const events = {
  'chat.token': z.object({ conversationId: z.string(), messageId: z.string(), text: z.string() }),
  /** The reply ended (any status); carries the stored message. */
  'chat.done': z.object({ conversationId: z.string(), message: Message }),
  'engine.status': z.object({ state: z.enum(['idle', 'loading', 'busy', 'crashed', 'stopped']), detail: z.string().nullable() }),
  ...datasetsEvents,
  ...runsEvents,
  ...gattEvents,
  ...systemEvents,
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
