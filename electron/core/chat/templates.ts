// Chat templates: the model's own Jinja template (GGUF `tokenizer.chat_template`, rendered with
// @huggingface/jinja), built-in Llama 2 and Llama 3 templates, and plain-text ChatML as the fallback.

import type { ChatTemplateInfo } from '../../shared/contract';

// The package is ESM with a CommonJS build; TypeScript's Node16 mode only sees its ESM typings.
const { Template } = require('@huggingface/jinja') as typeof import('@huggingface/jinja', { with: { 'resolution-mode': 'require' } });

export interface TemplateMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface RenderOptions {
  addGenerationPrompt: boolean;
  bosToken: string;
  eosToken: string;
  /** Llama 3.1+ templates print today's date; pinned in tests ("26 Jul 2024"). */
  dateString?: string;
}

export interface ChatTemplate {
  id: string;
  name: string;
  /** Text that ends a reply (besides the model's EOS token). */
  stopStrings: string[];
  render(messages: TemplateMessage[], opts: RenderOptions): string;
}

const todayString = () => {
  const d = new Date();
  const month = d.toLocaleString('en-US', { month: 'short' });
  return `${String(d.getDate()).padStart(2, '0')} ${month} ${d.getFullYear()}`;
};

const splitSystem = (messages: TemplateMessage[]) =>
  messages[0]?.role === 'system' ? { system: messages[0].content, rest: messages.slice(1) } : { system: '', rest: messages };

/** Llama 3.1 / 3.2 Instruct without tools: a system header with the knowledge cut-off and date. */
export const llama3Template: ChatTemplate = {
  id: 'llama3',
  name: 'Llama 3',
  stopStrings: ['<|eot_id|>', '<|end_of_text|>', '<|eom_id|>'],
  render(messages, opts) {
    const { system, rest } = splitSystem(messages);
    const header = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
    let out = `${opts.bosToken}${header('system')}Cutting Knowledge Date: December 2023\nToday Date: ${opts.dateString ?? todayString()}\n\n`;
    out += `${system.trim()}<|eot_id|>`;
    for (const m of rest) out += `${header(m.role)}${m.content.trim()}<|eot_id|>`;
    if (opts.addGenerationPrompt) out += header('assistant');
    return out;
  },
};

/** Llama 2 chat: [INST] turns, the system prompt inside <<SYS>> in the first one. */
export const llama2Template: ChatTemplate = {
  id: 'llama2',
  name: 'Llama 2',
  stopStrings: ['</s>', '[INST]'],
  render(messages, opts) {
    const { system, rest } = splitSystem(messages);
    let out = '';
    rest.forEach((m, i) => {
      const content = i === 0 && system ? `<<SYS>>\n${system}\n<</SYS>>\n\n${m.content}` : m.content;
      if (m.role === 'user') out += `${opts.bosToken}[INST] ${content.trim()} [/INST]`;
      else if (m.role === 'assistant') out += ` ${content.trim()} ${opts.eosToken}`;
    });
    return out;
  },
};

/** ChatML written as plain text: for models without a template of their own (stories260K, base models). */
export const chatml: ChatTemplate = {
  id: 'chatml',
  name: 'ChatML (plain text)',
  stopStrings: ['<|im_end|>', '<|im_start|>'],
  render(messages, opts) {
    let out = '';
    for (const m of messages) out += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
    if (opts.addGenerationPrompt) out += '<|im_start|>assistant\n';
    return out;
  },
};

/** A template from the model file, run by @huggingface/jinja. */
export function jinjaTemplate(source: string, name = 'Model template (Jinja)'): ChatTemplate {
  const compiled = new Template(source);
  const stopStrings = ['<|eot_id|>', '<|im_end|>', '</s>', '<|end|>', '<end_of_turn>'].filter((s) => source.includes(s));
  return {
    id: 'jinja',
    name,
    stopStrings,
    render(messages, opts) {
      return compiled.render({
        messages,
        add_generation_prompt: opts.addGenerationPrompt,
        bos_token: opts.bosToken,
        eos_token: opts.eosToken,
        date_string: opts.dateString ?? todayString(),
      });
    },
  };
}

/** The template a model uses: its own Jinja template when the file has one, else ChatML as text. */
export function templateForModel(metadata: Record<string, unknown>): ChatTemplate {
  const source = metadata['tokenizer.chat_template'];
  if (typeof source === 'string' && source.trim()) {
    try {
      return jinjaTemplate(source);
    } catch {
      // A template @huggingface/jinja can't parse: fall back rather than refuse to chat.
    }
  }
  return chatml;
}

const EXAMPLE: TemplateMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Hello!' },
  { role: 'assistant', content: 'Hi! How can I help?' },
  { role: 'user', content: 'Tell me a joke.' },
];

/** What the Models view shows about a model's template: its name, where it comes from, its source and a sample. */
export function templateInfo(metadata: Record<string, unknown>): ChatTemplateInfo {
  const template = templateForModel(metadata);
  const source = metadata['tokenizer.chat_template'];
  const fromModelFile = template.id === 'jinja';
  let example: string;
  try {
    example = template.render(EXAMPLE, { addGenerationPrompt: true, bosToken: '<bos>', eosToken: '<eos>', dateString: '26 Jul 2024' });
  } catch (err) {
    example = `(the template failed on a sample conversation: ${(err as Error).message})`;
  }
  return {
    id: template.id,
    name: fromModelFile ? 'From the model file' : template.name,
    fromModelFile,
    source: fromModelFile && typeof source === 'string' ? source : null,
    example,
  };
}
