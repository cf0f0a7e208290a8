#include "infer/vocab.h"

#include "infer/bpe_tokenizer.h"

namespace paddock {

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xNN>" -> NN, else -1
static int parse_byte_piece(const std::string& p) {
  if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

Status Vocab::finalize(const std::string& source) {
  const size_t n = pieces.size();
  if (n == 0) return PD_ERROR(BadModelFile, "%s: the vocabulary is empty", source.c_str());
  if (scores.empty()) scores.assign(n, 0.0f);
  if (types.empty()) types.assign(n, kTokenNormal);
  if (scores.size() != n || types.size() != n) {
    return PD_ERROR(BadModelFile, "%s: expected %zu token scores and types (one per token), found %zu and %zu",
                    source.c_str(), n, scores.size(), types.size());
  }
  for (int32_t id : {bos_id, eos_id, unk_id}) {
    if (!valid_id(id)) {
      return PD_ERROR(BadModelFile, "%s: special token id %d (bos/eos/unk) is outside the vocabulary of %zu tokens",
                      source.c_str(), id, n);
    }
  }
  if (model == "gpt2") {
    std::vector<BpeSpecialToken> specials;
    for (size_t i = 0; i < n; i++) {
      if (types[i] == kTokenControl || types[i] == kTokenUserDefined) specials.push_back({(int32_t)i, pieces[i]});
    }
    auto bpe = std::make_shared<BpeTokenizer>();
    BpeStatus bs = bpe->init_from_merges(pieces, merges, specials);
    if (!bs.ok()) return PD_ERROR(BadModelFile, "%s: byte-level BPE vocabulary: %s", source.c_str(), bs.message.c_str());
    piece_to_id.clear();
    for (int i = 0; i < 256; i++) byte_to_id[i] = -1;
    tokenizer = make_bpe_tokenizer(std::move(bpe), bos_id, eos_id, eot_id, pieces);
    return Status();
  }
  if (model != "llama") {
    return PD_ERROR(Unsupported, "%s: tokenizer '%s' is not supported (Paddock runs 'llama' and 'gpt2' vocabularies)",
                    source.c_str(), model.c_str());
  }
  piece_to_id.clear();
  piece_to_id.reserve(n);
  for (int i = 0; i < 256; i++) byte_to_id[i] = -1;
  for (size_t i = 0; i < n; i++) {
    const int32_t t = types[i];
    if (t == kTokenByte) {
      int b = parse_byte_piece(pieces[i]);
      if (b >= 0 && byte_to_id[b] < 0) byte_to_id[b] = (int32_t)i;
    } else if (t == kTokenNormal || t == kTokenUserDefined || t == kTokenUndefined) {
      // Control, unknown and byte tokens are never produced from text (no special-token parsing).
      piece_to_id.emplace(pieces[i], (int32_t)i);  // first id wins on duplicates
    }
  }
  tokenizer.reset();
  tokenizer = make_spm_tokenizer(*this);
  return Status();
}

std::string Vocab::token_bytes(int32_t id) const {
  if (!valid_id(id)) return std::string();
  if (model == "gpt2") return tokenizer ? tokenizer->token_bytes(id) : std::string();
  const int32_t t = types[(size_t)id];
  const std::string& p = pieces[(size_t)id];
  if (t == kTokenControl || t == kTokenUnknown || t == kTokenUnused) return std::string();
  if (t == kTokenByte) {
    int b = parse_byte_piece(p);
    return b >= 0 ? std::string(1, (char)b) : std::string();
  }
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size(); i++) {
    if (i + 2 < p.size() && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
        (unsigned char)p[i + 2] == 0x81) {
      out += ' ';
      i += 2;
    } else {
      out += p[i];
    }
  }
  return out;
}

}  // namespace paddock
