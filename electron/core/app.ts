// The Paddock core: one object that answers every contract call and pushes every event.
// The Electron main process and the web host are thin transports around it.
import path from 'node:path';
import {
  contract,
  events as eventSchemas,
  type CallName,
  type CallRequest,
  type CallResponse,
  type EventName,
  type EventPayload,
  type WireError,
} from '../shared/contract';
import { ChatService } from './chat/chat-service';
import { chatml } from './chat/templates';
import { openDatabase, type Db } from './db/connection';
import { ConversationsRepo } from './db/conversations-repo';
import { MessagesRepo } from './db/messages-repo';
import { ModelsRepo } from './db/models-repo';
import type { EngineClient } from './engine/engine-client';
import { toWireError } from './errors';
import { ModelRegistry } from './models/model-registry';
import { ensureDir } from './paths';
import type { CoreDeps } from './core-deps';
import { DatasetService } from './datasets/dataset-service';
import { datasetHandlers } from './datasets/handlers';
import { ensureBundledDatasets } from './datasets/bundled-samples';
import { GattService } from './training/gatt/gatt-service';
import { gattHandlers } from './training/gatt/handlers';
import { runHandlers } from './training/handlers';
import { RunService } from './training/run-service';
import { systemHandlers } from './system/handlers';
import { SystemService } from './system/system-service';

export interface CoreOptions {
  /** Folder for paddock.db; ':memory:' for tests. */
  dataDir: string;
  engine: EngineClient;
  mode: 'electron' | 'browser';
  version: string;
  /** The bundled model file, registered on first start. */
  bundledModel?: string;
  /** The bundled sample datasets' folder (resources/datasets), imported once on first start. */
  bundledDatasets?: string;
  /** Native file dialog, where the host has one (Electron). */
  pickFile?: (opts: { title?: string; extensions?: string[] }) => Promise<string | null>;
}

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

type Handlers = { [N in CallName]: (req: CallRequest<N>) => Promise<CallResponse<N>> | CallResponse<N> };

export class PaddockCore {
  readonly db: Db;
  readonly models: ModelRegistry;
  readonly chat: ChatService;
  readonly datasets: DatasetService;
  readonly runs: RunService;
  readonly gatt: GattService;
  readonly system: SystemService;
  private readonly listeners = new Set<EventListener>();
  private readonly handlers: Handlers;

  constructor(private readonly opts: CoreOptions) {
    const file = opts.dataDir === ':memory:' ? ':memory:' : path.join(ensureDir(opts.dataDir), 'paddock.db');
    this.db = openDatabase(file);
    const messages = new MessagesRepo(this.db);
    messages.markStaleStreaming();
    this.models = new ModelRegistry(new ModelsRepo(this.db), opts.engine);
    const deps: CoreDeps = { db: this.db, engine: opts.engine, models: this.models, emit: this.emit, dataDir: opts.dataDir };
    this.system = new SystemService(deps);
    this.chat = new ChatService(new ConversationsRepo(this.db), messages, this.models, opts.engine, this.emit, this.system);
    this.datasets = new DatasetService(deps);
    this.runs = new RunService(deps, this.datasets, this.system);
    this.gatt = new GattService(deps, this.datasets, this.runs);
    this.runs.recover();
    opts.engine.onStateChange((state, detail) => this.emit('engine.status', { state, detail }));
    this.handlers = this.buildHandlers();
  }

  /** Registers the bundled model; call once after construction. */
  async start(): Promise<this> {
    if (this.opts.bundledModel) await this.models.ensureBundled(this.opts.bundledModel);
    // A sample that fails to import must not keep the app from starting: say so and go on.
    if (this.opts.bundledDatasets) {
      await ensureBundledDatasets(this.datasets, this.opts.bundledDatasets).catch((err) =>
        process.stderr.write(`bundled datasets: ${(err as Error).message}\n`),
      );
    }
    return this;
  }

  /** Validates the request, runs the call, validates the response: the contract holds at runtime. */
  async call(name: string, request: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: WireError }> {
    const entry = (contract as Record<string, (typeof contract)[CallName]>)[name];
    if (!entry) return { ok: false, error: { code: 'NOT_FOUND', message: `Unknown call "${name}".` } };
    const parsed = entry.request.safeParse(request ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'BAD_REQUEST', message: `${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}` } };
    }
    try {
      const handler = this.handlers[name as CallName] as (r: unknown) => unknown;
      const result = entry.response.parse(await handler(parsed.data));
      return { ok: true, result };
    } catch (err) {
      return { ok: false, error: toWireError(err) };
    }
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.chat.stopAll().catch(() => undefined);
    await this.runs.stopAll().catch(() => undefined);
    await this.opts.engine.close();
    this.db.close();
  }

  private readonly emit = <E extends EventName>(event: E, payload: EventPayload<E>): void => {
    const checked = eventSchemas[event].parse(payload) as EventPayload<E>;
    for (const l of this.listeners) l(event, checked);
  };

  private buildHandlers(): Handlers {
    const { chat, models, opts } = this;
    // Each area's handlers receive the parsed request (defaults applied), as call() passes it.
    const areas = {
      ...datasetHandlers(this.datasets),
      ...runHandlers(this.runs),
      ...gattHandlers(this.gatt),
      ...systemHandlers(this.system),
    } as unknown as Pick<Handlers, Exclude<CallName, `app.${string}` | `models.${string}` | `chat.${string}`>>;
    return {
      ...areas,
      'app.info': () => ({
        version: opts.version,
        mode: opts.mode,
        dataDir: opts.dataDir,
        defaultTemplate: chatml.name,
        canPickFiles: !!opts.pickFile,
      }),
      'app.pickFile': async (r) => ({ path: opts.pickFile ? await opts.pickFile(r) : null }),
      'models.list': () => models.list(),
      'models.import': (r) => models.import(r.path, r.tokenizerPath),
      'models.remove': (r) => {
        models.remove(r.id);
        return { ok: true as const };
      },
      'chat.list': () => chat.list(),
      'chat.create': (r) => chat.create(r),
      'chat.rename': (r) => chat.rename(r.id, r.title),
      'chat.update': (r) => chat.update(r.id, r),
      'chat.delete': async (r) => {
        await chat.remove(r.id);
        return { ok: true as const };
      },
      'chat.messages': (r) => chat.listMessages(r.conversationId),
      'chat.send': (r) => chat.send(r.conversationId, r.content),
      'chat.regenerate': (r) => chat.regenerate(r.conversationId),
      'chat.editAndResend': (r) => chat.editAndResend(r.messageId, r.content),
      'chat.stop': async (r) => {
        await chat.stop(r.conversationId);
        return { ok: true as const };
      },
    };
  }
}

