// Ghost Attention (Llama 2 sec. 3.3) and the system-message adherence eval: part of the contract
// (spread into contract.ts). Synthesis turns a multi-turn dataset into a new GAtt dataset whose
// replies were sampled with the current model and the instruction appended to every user turn.
import { z } from 'zod';

/** `signoff`: end every reply with a word (checkable by a tiny model too: the demo's task). */
export const ConstraintKind = z.enum(['hobby', 'language', 'figure', 'signoff', 'custom']);
export type ConstraintKind = z.output<typeof ConstraintKind>;

export const InstructionCheck = z.object({ kind: z.enum(['language', 'phrase', 'keyword']), value: z.string() });
export type InstructionCheck = z.output<typeof InstructionCheck>;

export const GattInstructionOptions = z.object({
  /** Which constraint lists to draw from; `custom` uses `custom`. */
  kinds: z.array(ConstraintKind).min(1).default(['hobby', 'language', 'figure']),
  custom: z.array(z.string().min(1)).default([]),
  /** At most this many constraints combined into one instruction. */
  maxCombined: z.number().int().min(1).max(4).default(2),
  /** Share of instructions shortened ("Always act as Napoleon" -> "Figure: Napoleon"); the paper: half. */
  shortenShare: z.number().min(0).max(1).default(0.5),
  seed: z.number().int().min(0).default(0),
});

export const GattInstruction = z.object({
  /** The text put in the system message / first turn. */
  text: z.string(),
  /** The long form appended to every user turn during synthesis. */
  long: z.string(),
  /** How a reply is checked for obeying it (the adherence eval): the first checkable constraint. */
  check: InstructionCheck.nullable(),
  /** Every checkable constraint of a combined instruction (a reply obeys when it passes all). */
  checks: z.array(InstructionCheck).default([]),
});
export type GattInstruction = z.output<typeof GattInstruction>;
export type GattInstructionOptions = z.output<typeof GattInstructionOptions>;

export const AdherencePoint = z.object({ turn: z.number().int(), obeyed: z.number().int(), total: z.number().int(), share: z.number() });
export type AdherencePoint = z.output<typeof AdherencePoint>;

export const gattContract = {
  'gatt.instructions': {
    request: GattInstructionOptions.extend({ count: z.number().int().min(1).max(100).default(10) }),
    response: z.array(GattInstruction),
  },
  /** Builds a new dataset (a new version) from the multi-turn rows of `datasetId`; progress as gatt.progress. */
  'gatt.synthesize': {
    request: z.object({
      jobId: z.string(),
      /** A dataset id (its head) or a pinned version id `${id}@${revision}` (DatasetService.readVersion takes either). */
      datasetId: z.string(),
      modelId: z.string(),
      /** Sample with this run's adapter on the base (the "current model" after an SFT run). */
      runId: z.string().optional(),
      instructions: GattInstructionOptions.prefault({}),
      minTurns: z.number().int().min(2).default(2),
      maxRows: z.number().int().min(1).optional(),
      maxTokens: z.number().int().min(1).max(1024).default(96),
      temperature: z.number().min(0).max(2).default(0.7),
      seed: z.number().int().min(0).default(0),
      /** `one`: a row per dialogue (its last reply trained); `every`: a row per turn k (turns 1..k, reply k trained). */
      rowsPerDialogue: z.enum(['one', 'every']).default('one'),
      name: z.string().optional(),
    }),
    response: z.object({ datasetId: z.string(), rows: z.number().int() }),
  },
  'gatt.cancel': { request: z.object({ jobId: z.string() }), response: z.object({ ok: z.literal(true) }) },
  /** Share of replies at turn k that obey a checkable system instruction, for the base and (optionally) a run's adapter. */
  'eval.adherence': {
    request: z.object({
      jobId: z.string(),
      modelId: z.string(),
      runId: z.string().optional(),
      turns: z.number().int().min(1).max(32).default(8),
      dialogues: z.number().int().min(1).max(200).default(10),
      seed: z.number().int().min(0).default(0),
      maxTokens: z.number().int().min(1).max(512).default(48),
      /** Greedy by default: the share then measures the model, not the sampler's luck. */
      temperature: z.number().min(0).max(2).default(0),
      /** Only constraints with a machine check make sense here (hobbies have none). */
      instructions: GattInstructionOptions.prefault({ kinds: ['signoff', 'language', 'figure'], maxCombined: 1 }),
    }),
    response: z.object({ base: z.array(AdherencePoint), tuned: z.array(AdherencePoint).nullable() }),
  },
} as const;

export const gattEvents = {
  'gatt.progress': z.object({ jobId: z.string(), done: z.number().int(), total: z.number().int(), stage: z.string() }),
} as const;
