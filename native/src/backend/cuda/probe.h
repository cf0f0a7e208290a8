// A device smoke test run before a device is offered: one warp loads a 16x16 and a 16x8 BF16
// tile with ldmatrix, multiplies them with mma.sync and sums the result with shuffles. It
// proves the module's kernels exist for this GPU's architecture (a card the build has no code
// for fails here with a message, not later in a user's chat) and checks the fragment layouts.
#pragma once

#include <string>

namespace pd_cuda {

// True when the kernels ran and their result equals the host's; else *why says what failed.
bool probe_device(std::string* why);

}  // namespace pd_cuda
