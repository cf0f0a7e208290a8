// An Ollama Modelfile beside a merged GGUF (DESIGN.md "what users expect"): FROM the file, the
// chat template the run was trained with as Ollama's Go TEMPLATE, and its stop strings. A
// model's own Jinja template is not translated: Ollama reads tokenizer.chat_template from the
// GGUF itself, so TEMPLATE is left out for it.
import path from 'node:path';
import type { ChatTemplate } from '../chat/templates';

const GO_TEMPLATES: Record<string, string> = {
  chatml:
    '{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>\n',
  llama3:
    '{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>',
  llama2: '[INST] {{ if .System }}<<SYS>>\n{{ .System }}\n<</SYS>>\n\n{{ end }}{{ .Prompt }} [/INST] {{ .Response }}',
};

export function ollamaModelfile(ggufFile: string, template: ChatTemplate): string {
  const lines = [`# Written by Paddock for ${path.basename(ggufFile)}: ollama create NAME -f this-file`, `FROM ./${path.basename(ggufFile)}`];
  const go = GO_TEMPLATES[template.id];
  if (go) lines.push(`TEMPLATE """${go}"""`);
  else lines.push(`# TEMPLATE: the model's own chat template (tokenizer.chat_template in the GGUF), which Ollama reads itself`);
  for (const stop of template.stopStrings) lines.push(`PARAMETER stop ${JSON.stringify(stop)}`);
  return `${lines.join('\n')}\n`;
}

/** Where the Modelfile goes: beside the GGUF, named after it. */
export const modelfilePath = (ggufFile: string): string => path.join(path.dirname(ggufFile), `${path.basename(ggufFile, '.gguf')}.Modelfile`);
