#include "io/vocab_export.h"

namespace paddock {

Status set_vocab_kvs(const Vocab& v, const std::string& chat_template, GgufWriter* w) {
  const bool bpe = v.model == "gpt2";
  if (!bpe && v.model != "llama") {
    return PD_ERROR(InvalidArgument, "cannot write a '%s' vocabulary to GGUF (Paddock writes 'llama' and 'gpt2')",
                    v.model.c_str());
  }
  if (bpe && v.merges.empty()) {
    return PD_ERROR(InvalidArgument, "the byte-level BPE vocabulary has no merges list; a GGUF without one cannot be tokenized");
  }
  w->set_string("tokenizer.ggml.model", v.model);
  if (bpe) w->set_string("tokenizer.ggml.pre", v.pre.empty() ? "llama-bpe" : v.pre);
  w->set_string_array("tokenizer.ggml.tokens", v.pieces);
  // BPE ranks live in the merges; llama.cpp's converter writes no scores for "gpt2".
  if (!bpe) w->set_f32_array("tokenizer.ggml.scores", v.scores);
  w->set_i32_array("tokenizer.ggml.token_type", v.types);
  if (bpe) w->set_string_array("tokenizer.ggml.merges", v.merges);
  w->set_u32("tokenizer.ggml.bos_token_id", (uint32_t)v.bos_id);
  w->set_u32("tokenizer.ggml.eos_token_id", (uint32_t)v.eos_id);
  if (!bpe) w->set_u32("tokenizer.ggml.unknown_token_id", (uint32_t)v.unk_id);
  if (v.eot_id >= 0) w->set_u32("tokenizer.ggml.eot_token_id", (uint32_t)v.eot_id);
  w->set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w->set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  // The default differs by kind (SPM: on, BPE: off); write it only where it departs from that.
  if (v.add_space_prefix != !bpe) w->set_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!chat_template.empty()) w->set_string("tokenizer.chat_template", chat_template);
  return Status();
}

}  // namespace paddock
