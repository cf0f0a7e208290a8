// The real tiny model most engine tests start from: llama2.c's stories260K with its tok512
// tokenizer, from the shared test data.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "io/model_loader.h"
#include "testing.h"

namespace pdtest {

inline std::string stories260k_dir(int argc, char** argv) { return testdata_root(argc, argv) + "/models/stories260K/"; }

// False, after printing why, when the model or its tokenizer is absent: the test then skips.
inline bool stories260k_present(const std::string& dir) {
  if (file_exists(dir + "stories260K.bin") && file_exists(dir + "tok512.bin")) return true;
  std::printf("stories260K not found under '%s': skipping\n", dir.c_str());
  return false;
}

// `file` of that folder (stories260K.bin, or its other llama2.c layout stories260K.v1.bin) with
// tok512; a load error is a failed check and gives nullptr.
inline std::shared_ptr<paddock::Model> load_stories260k(const std::string& dir, const char* file = "stories260K.bin") {
  paddock::LoadOptions o;
  o.tokenizer_path = dir + "tok512.bin";
  std::shared_ptr<paddock::Model> m;
  CHECK_OK(paddock::load_model(dir + file, o, &m));
  return m;
}

}  // namespace pdtest
