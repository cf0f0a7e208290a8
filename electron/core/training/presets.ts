// Training recipes from the papers (DESIGN.md "The science"), as partial run configs a user starts
// from. Only what the paper fixes is set; the rest stays at the run config's defaults.
import type { RunConfig } from './run-config';

export type PresetName = 'llama2-sft' | 'llama-pretrain' | 'alpaca' | 'lora-default' | 'qlora-paper';

export interface Preset {
  description: string;
  config: Partial<RunConfig>;
}

export const PRESETS: Record<PresetName, Preset> = {
  // Llama 2 SFT (sec. 3.1): cosine lr 2e-5, weight decay 0.1, 2 epochs, full fine-tuning; the paper
  // states no warmup for SFT, so none.
  'llama2-sft': {
    description: 'Llama 2 SFT: full fine-tuning, lr 2e-5 cosine, weight decay 0.1, 2 epochs',
    config: { method: 'full', lr: 2e-5, schedule: 'cosine', weightDecay: 0.1, epochs: 2, warmup: 0 },
  },
  // LLaMA pretraining (sec. 2.2): AdamW b1 0.9 b2 0.95, wd 0.1, clipping 1.0, cosine down to 10%,
  // 2000 warmup steps; peak 3e-4 (7B/13B).
  'llama-pretrain': {
    description: 'LLaMA pretraining: AdamW (0.9, 0.95), lr 3e-4 cosine to 10%, wd 0.1, clip 1.0, 2000 warmup steps',
    config: { method: 'full', lr: 3e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, clipNorm: 1.0, schedule: 'cosine', finalRatio: 0.1, warmup: 2000 },
  },
  // Stanford Alpaca: lr 2e-5, 3 epochs, warmup 3%, cosine, no weight decay (length 512).
  alpaca: {
    description: 'Alpaca: full fine-tuning, lr 2e-5 cosine, 3 epochs, warmup 3% of the steps, wd 0, length 512',
    config: { method: 'full', lr: 2e-5, schedule: 'cosine', epochs: 3, warmupRatio: 0.03, weightDecay: 0, maxSeqLen: 512 },
  },
  // LoRA wants a larger lr than full fine-tuning (~1e-4 to 2e-4).
  'lora-default': {
    description: 'LoRA: rank 8, alpha 16, lr 2e-4, all seven target matrices',
    config: { method: 'lora', rank: 8, alpha: 16, lr: 2e-4, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  },
  // QLoRA paper: r 64, alpha 16, adapters on all linear layers.
  'qlora-paper': {
    description: 'QLoRA paper: rank 64, alpha 16, all linear layers, lr 2e-4',
    config: { method: 'qlora', rank: 64, alpha: 16, lr: 2e-4, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  },
};

export function isPresetName(s: string): s is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, s);
}
