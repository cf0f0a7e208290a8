// What a training data file turns into, whatever its format: chat (role/content turns), plain text,
// or a prompt/completion pair (mlx-lm's three kinds). Masking and tokenization start from these.

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
  /** Assistant turns: false keeps the turn as context with no loss (OpenAI's "weight": 0). Default true. */
  train?: boolean;
}

export interface ChatSample {
  kind: 'chat';
  messages: ChatMessage[];
}

export interface TextSample {
  kind: 'text';
  text: string;
}

export interface CompletionSample {
  kind: 'completion';
  prompt: string;
  completion: string;
}

export type TrainingSample = ChatSample | TextSample | CompletionSample;

export type DatasetFormat = 'auto' | 'alpaca' | 'sharegpt' | 'openai' | 'oasst' | 'completions' | 'text' | 'csv' | 'parquet';

export interface QuarantinedLine {
  /** 1-based line of the file (1 for a whole-file JSON document that fails to parse, at its reported position when known). */
  line: number;
  error: string;
}

export interface FlaggedSample {
  /** Index into `samples`. */
  index: number;
  problems: string[];
}

export interface ReadResult {
  format: Exclude<DatasetFormat, 'auto'>;
  samples: TrainingSample[];
  /** Lines that could not be parsed or not read as a sample of the format: kept out, reported. */
  quarantined: QuarantinedLine[];
  /** Samples kept but dubious (no assistant turn, empty reply, roles out of order). */
  flagged: FlaggedSample[];
}
