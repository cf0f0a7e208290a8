// Renders a chat prompt as parts (template text / message content / bos / eos), so the engine can
// parse special tokens in what the template wrote and never in what people wrote.
//
// How: each message's content is replaced by a unique sentinel (private-use code points, which
// no template prints) padded with U+3000 on both sides, and bos_token / eos_token by sentinels of
// their own. After rendering, the sentinels split the text. The padding tells whether the template
// trimmed the content (`| trim`, .strip()): a side that lost its padding gets the content trimmed
// on that side too, so the parts spell exactly what rendering the real text would have produced
// (checked against a real render; a template that rewrites text gets the safe fallback).
import type { PromptPart } from '../../shared/engine-protocol';
import type { ChatTemplate, TemplateMessage } from './templates';

const BOS = '\uE000';
const EOS = '\uE001';
const OPEN = '\uE002';
const CLOSE = '\uE003';
const PAD = '\u3000'; // ideographic space: whitespace to trim(), never printed by templates themselves

const SENTINELS = new RegExp(`(${PAD}?)${OPEN}(\\d+)${CLOSE}(${PAD}?)|${BOS}|${EOS}`, 'g');

export function renderPromptParts(
  template: ChatTemplate,
  messages: TemplateMessage[],
  opts: { addGenerationPrompt: boolean; dateString?: string },
): PromptPart[] {
  // Empty contents stay empty: templates test them (e.g. "skip an empty system prompt").
  const marked = messages.map((m, i) => ({ ...m, content: m.content ? `${PAD}${OPEN}${i}${CLOSE}${PAD}` : '' }));
  const rendered = template.render(marked, { ...opts, bosToken: BOS, eosToken: EOS });
  const parts: PromptPart[] = [];
  const seen = new Set<number>();
  let cursor = 0;
  const pushTemplate = (text: string) => {
    if (text) parts.push({ kind: 'template', text });
  };
  for (const m of rendered.matchAll(SENTINELS)) {
    pushTemplate(rendered.slice(cursor, m.index));
    cursor = m.index + m[0].length;
    if (m[0] === BOS) parts.push({ kind: 'bos' });
    else if (m[0] === EOS) parts.push({ kind: 'eos' });
    else {
      const i = Number(m[2]);
      const msg = messages[i];
      if (!msg) return fallback(template, messages, opts);
      seen.add(i);
      let text = msg.content;
      if (!m[1]) text = text.trimStart();
      if (!m[3]) text = text.trimEnd();
      if (text) parts.push({ kind: 'content', text, message: i, role: msg.role });
    }
  }
  pushTemplate(rendered.slice(cursor));
  // A template that rewrites contents (a sentinel lost, or text changed: `| upper`) can't be
  // split safely: the parts must spell exactly what the real render spells.
  if (messages.some((m, i) => m.content && !seen.has(i))) return fallback(template, messages, opts);
  const real = template.render(messages, { ...opts, bosToken: '', eosToken: '' });
  return promptText(parts) === real ? parts : [asOneContent(real)];
}

/** The prompt as one text, bos/eos printed as given (for display and for the fake engine). */
export function promptText(parts: PromptPart[], bos = '', eos = ''): string {
  return parts.map((p) => (p.kind === 'bos' ? bos : p.kind === 'eos' ? eos : p.text)).join('');
}

/** The whole prompt as message text, parsed for nothing: safe, if the template's special tokens stay text. */
const asOneContent = (text: string): PromptPart => ({ kind: 'content', text, message: 0, role: 'user' });

function fallback(template: ChatTemplate, messages: TemplateMessage[], opts: { addGenerationPrompt: boolean; dateString?: string }): PromptPart[] {
  return [asOneContent(template.render(messages, { ...opts, bosToken: '', eosToken: '' }))];
}
