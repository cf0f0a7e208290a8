// Every file Paddock writes (models, adapters, checkpoints, side files) goes through here:
// written to "<path>.tmp-<pid>", flushed and fsync'ed, then renamed over `path`, so a crash or
// kill -9 at any moment leaves either the old file or the complete new one, never half of one.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "core/status.h"

namespace paddock {

// `write` fills the open temp file (return an error Status to abandon it). IO errors name `path`.
Status write_file_atomically(const std::string& path, const std::function<Status(std::FILE*)>& write);

Status write_text_file(const std::string& path, const std::string& text);

}  // namespace paddock
