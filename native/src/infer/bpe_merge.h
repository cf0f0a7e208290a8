// Byte-pair merging of one pre-split piece, tiktoken's algorithm on token ids.
//
// A piece starts as one token per byte; then, repeatedly, the adjacent pair with
// the lowest merge rank (the leftmost one on ties) is replaced by the token it
// forms, until no adjacent pair has a merge. Ranks come from a BpePairTable:
// for a tiktoken file the rank of the merged token, for a GPT-2 style merges
// list the merge's position in that list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace paddock {

// What a pair of adjacent tokens merges into; rank < 0 means "no merge".
struct BpeMerge {
  int32_t rank;
  int32_t id;
};

// (left id, right id) -> BpeMerge, open addressing on one 64-bit key: BPE does
// one lookup per candidate pair, so this is the hot table.
class BpePairTable {
 public:
  void reserve(size_t n_pairs);

  // A pair added twice keeps its lowest rank.
  void add(int32_t left, int32_t right, int32_t rank, int32_t merged);

  BpeMerge find(int32_t left, int32_t right) const {
    if (slots_.empty()) {
      return {-1, -1};
    }
    const uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) {
        return {s.rank, s.id};
      }
      if (s.key == kEmpty) {
        return {-1, -1};
      }
    }
  }

  size_t size() const { return count_; }
  size_t memory_bytes() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t key;
    int32_t rank;
    int32_t id;
  };
  static constexpr uint64_t kEmpty = ~(uint64_t)0;  // ids are >= 0, so never a real key

  static uint64_t make_key(int32_t left, int32_t right) {
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
  }
  size_t slot_of(uint64_t key) const {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;  // Fibonacci hashing
  }
  void rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t count_ = 0;
};

// Appends the tokens of `piece` to *out. byte_ids[b] is the token of byte b.
// Picks the simple scan for short pieces and the heap for long ones.
void bpe_merge(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
               std::vector<int32_t>* out);

// The two strategies, exposed so tests can check that they agree.
// scan: O(n^2) with a tiny constant, like tiktoken; heap: O(n log n) for long pieces.
void bpe_merge_scan(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
                    std::vector<int32_t>* out);
void bpe_merge_heap(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
                    std::vector<int32_t>* out);

}  // namespace paddock
