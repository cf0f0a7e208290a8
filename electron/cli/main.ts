#!/usr/bin/env node
// The Paddock command line (DESIGN.md "The command line"): stdout carries only each command's output.
import { bundleModelCommand } from './bundle-model';
import { UsageError, fail } from './fail';
import { generateCommand } from './generate';
import { logitsCommand } from './logits';
import { maskCommand } from './mask';
import { benchCommand } from './bench';
import { serveCommand } from './serve';
import { tokenizeCommand } from './tokenize';
import { synthCommand } from './synth';
import { trainCommand } from './train';
import { exportCommand } from './export';
import { datasetCommand } from './dataset';
import { devicesCommand } from './devices';
import { gattDemoCommand } from './gatt-demo';

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  generate: generateCommand,
  serve: serveCommand,
  tokenize: tokenizeCommand,
  'bundle-model': bundleModelCommand,
  synth: synthCommand,
  logits: logitsCommand,
  mask: maskCommand,
  bench: benchCommand,
  train: trainCommand,
  export: exportCommand,
  dataset: datasetCommand,
  'gatt-demo': gattDemoCommand,
  devices: devicesCommand,
};

const usage = `usage: paddock <command> [options]
  generate --model F [--tokenizer F] [--prompt T] [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--adapter F [--adapter-scale S]] [--device auto|cpu|cuda] [--gpu-layers N]
  tokenize --model F   (JSON strings on stdin, one per line -> JSON arrays of token ids)
  logits --model F [--tokenizer F] --prompt T [--device auto|cpu|cuda] [--gpu-layers N]   (JSON {"tokens":[...],"logits":[...]} of the last position)
  mask --model F [--tokenizer F] --data F --row N --mode all|last|gatt [--format F] [--oasst best|all]   (JSON {"tokens","pieces","weights"} of row N)
  serve [--port P] [--host H --allow-remote]
  bundle-model [--testdata DIR] [--out F]
  synth --shape stories260k|stories15m|tinyllama-1.1b|llama-3.2-1b|llama-2-7b --type f32|f16|bf16|q8_0|q4_0|q4_k_m --out F [--seed S]
  train --model F [--tokenizer F] --data F --method lora|qlora|full [--rank R=8] [--alpha A=2R] [--targets q,k,v,o,gate,up,down] [--steps N] [--epochs E] [--batch B=1] [--lr X=2e-4] [--schedule constant|linear|cosine] [--warmup W=0] [--mask all|last|gatt] [--seed S=0] [--save-every K=50] --out DIR [--resume]
        [--preset llama2-sft|llama-pretrain|alpaca|lora-default|qlora-paper] [--threads N] [--max-seq-len N=512] [--dropout P] [--format F] [--checkpoint-activations] [--no-pack] [--device cpu|cuda|auto (default cpu)]   (one JSON line per step)
  export --run DIR --format peft|gguf-lora|gguf-merged [--type f16|q8_0|q4_k_m] --out PATH
  dataset import F [--format auto|alpaca|sharegpt|openai|oasst|completions|text|csv|parquet] [--oasst best|all]   (last line: JSON {"dataset_id","rows","quarantined","flagged"})
  devices   (JSON {"backends":[{"name","compiled","devices":[{"name","memory_bytes",...}]}]})
  gatt-demo [--out DIR]   (Ghost Attention demonstration: adherence per turn, with and without GAtt)
  bench [engine|train|dataset|all] [--models a,b]   (from a source checkout: Paddock beside llama.cpp, ratio table)`;

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === 'help') {
    process.stderr.write(`${usage}\n`);
    process.exit(name ? 0 : 2);
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n${usage}`);
  await command(rest);
}

main().catch(fail);
