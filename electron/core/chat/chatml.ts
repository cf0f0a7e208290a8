// ChatML written as plain text: the template for models without one of their own
// (stories260K, base models). Later issues add the GGUF's own Jinja template and Llama 2/3.
export interface TemplateMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const chatmlTemplate = {
  name: 'ChatML (plain text)',
  stopStrings: ['<|im_end|>', '<|im_start|>'],
  render(messages: TemplateMessage[], addGenerationPrompt: boolean): string {
    let out = '';
    for (const m of messages) out += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
    if (addGenerationPrompt) out += '<|im_start|>assistant\n';
    return out;
  },
};
