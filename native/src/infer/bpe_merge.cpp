#include "infer/bpe_merge.h"

#include <climits>
#include <functional>
#include <queue>

namespace paddock {

// ---- BpePairTable ----------------------------------------------------------

void BpePairTable::rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{kEmpty, -1, -1});
  mask_ = capacity - 1;
  shift_ = 64;
  for (size_t c = capacity; c > 1; c >>= 1) {
    --shift_;  // shift_ = 64 - log2(capacity)
  }
  count_ = 0;
  for (const Slot& s : old) {
    if (s.key != kEmpty) {
      add((int32_t)(s.key >> 32), (int32_t)(uint32_t)s.key, s.rank, s.id);
    }
  }
}

void BpePairTable::reserve(size_t n_pairs) {
  size_t capacity = 16;
  while (capacity * 3 < n_pairs * 4) {  // load factor <= 3/4: short linear-probe chains
    capacity <<= 1;
  }
  if (capacity > slots_.size()) {
    rehash(capacity);
  }
}

void BpePairTable::add(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  if ((count_ + 1) * 4 > slots_.size() * 3) {
    rehash(slots_.empty() ? 16 : slots_.size() * 2);
  }
  const uint64_t key = make_key(left, right);
  for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      if (rank < s.rank) {
        s.rank = rank;
        s.id = merged;
      }
      return;
    }
    if (s.key == kEmpty) {
      s = Slot{key, rank, merged};
      ++count_;
      return;
    }
  }
}

// ---- scan: tiktoken's loop over a flat array ---------------------------------

namespace {

constexpr int32_t kNoRank = INT32_MAX;

// Pieces up to this many bytes are merged in a stack buffer with the scan;
// longer ones (rare: long runs of spaces, digits-free symbols, base64 ...) use the heap.
constexpr size_t kScanMaxBytes = 64;

struct Part {
  int32_t id;
  int32_t rank;    // rank of merging with the next part, kNoRank if none
  int32_t merged;  // the token that merge makes
};

inline void rank_pair(const BpePairTable& pairs, Part* parts, size_t i, size_t n) {
  if (i + 1 >= n) {
    parts[i].rank = kNoRank;
    return;
  }
  const BpeMerge m = pairs.find(parts[i].id, parts[i + 1].id);
  parts[i].rank = m.rank < 0 ? kNoRank : m.rank;
  parts[i].merged = m.id;
}

void merge_scan(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece, Part* parts,
                std::vector<int32_t>* out) {
  size_t n = piece.size();
  for (size_t i = 0; i < n; ++i) {
    parts[i].id = byte_ids[(unsigned char)piece[i]];
  }
  for (size_t i = 0; i < n; ++i) {
    rank_pair(pairs, parts, i, n);
  }
  while (n > 1) {
    size_t best = 0;
    int32_t best_rank = kNoRank;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (parts[i].rank < best_rank) {  // strict: the leftmost wins ties
        best_rank = parts[i].rank;
        best = i;
      }
    }
    if (best_rank == kNoRank) {
      break;
    }
    parts[best].id = parts[best].merged;
    for (size_t i = best + 1; i + 1 < n; ++i) {
      parts[i] = parts[i + 1];
    }
    --n;
    rank_pair(pairs, parts, best, n);
    if (best > 0) {
      rank_pair(pairs, parts, best - 1, n);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    out->push_back(parts[i].id);
  }
}

}  // namespace

void bpe_merge_scan(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
                    std::vector<int32_t>* out) {
  if (piece.size() <= kScanMaxBytes) {
    Part parts[kScanMaxBytes];
    merge_scan(pairs, byte_ids, piece, parts, out);
  } else {
    std::vector<Part> parts(piece.size());
    merge_scan(pairs, byte_ids, piece, parts.data(), out);
  }
}

// ---- heap: linked symbols + a priority queue of candidate pairs ------------

namespace {

struct Symbol {
  int32_t id;    // -1 once merged into its left neighbour
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
};

// A pair that was adjacent when pushed; stale once either side has changed.
struct Candidate {
  int32_t rank;
  int32_t left;  // symbol index = byte offset, so smaller means further left
  int32_t left_id;
  int32_t right_id;
  int32_t merged;

  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

}  // namespace

void bpe_merge_heap(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
                    std::vector<int32_t>* out) {
  const int32_t n = (int32_t)piece.size();
  if (n == 0) {
    return;
  }
  std::vector<Symbol> sym(n);
  for (int32_t i = 0; i < n; ++i) {
    sym[i] = Symbol{byte_ids[(unsigned char)piece[i]], i - 1, i + 1 < n ? i + 1 : -1};
  }

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push_pair = [&](int32_t left) {
    if (left < 0 || sym[left].next < 0) {
      return;
    }
    const int32_t right = sym[left].next;
    const BpeMerge m = pairs.find(sym[left].id, sym[right].id);
    if (m.rank >= 0) {
      queue.push(Candidate{m.rank, left, sym[left].id, sym[right].id, m.id});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) {
    push_pair(i);
  }

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int32_t right = sym[c.left].next;
    if (sym[c.left].id != c.left_id || right < 0 || sym[right].id != c.right_id) {
      continue;  // stale: one side was merged since this pair was pushed
    }
    sym[c.left].id = c.merged;
    sym[right].id = -1;
    sym[c.left].next = sym[right].next;
    if (sym[right].next >= 0) {
      sym[sym[right].next].prev = c.left;
    }
    push_pair(sym[c.left].prev);
    push_pair(c.left);
  }

  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    out->push_back(sym[i].id);
  }
}

void bpe_merge(const BpePairTable& pairs, const int32_t* byte_ids, std::string_view piece,
               std::vector<int32_t>* out) {
  if (piece.size() <= kScanMaxBytes) {
    bpe_merge_scan(pairs, byte_ids, piece, out);
  } else {
    bpe_merge_heap(pairs, byte_ids, piece, out);
  }
}

}  // namespace paddock
