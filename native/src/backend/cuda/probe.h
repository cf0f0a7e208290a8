// A device smoke test run before a device is offered: one warp loads a 16x16 and a 16x8 BF16
// tile with ldmatrix, multiplies them with mma.sync and sums the result with shuffles. It
// proves the module's kernels exist for this GPU's architecture (a card the build has no code
// for fails here with a message, not later in a user's chat) and checks the fragment layouts.
// On a sm_9.x device it also checks the wgmma path (gemm_wgmma.h: wgmma_self_test); a failure
// there keeps the device (mma.sync serves every GEMM) but turns wgmma off, with the reason kept.
#pragma once

#include <string>

namespace pd_cuda {

// True when the kernels ran and their result equals the host's; else *why says what failed.
bool probe_device(std::string* why);

// Whether gemm() may use the Hopper wgmma kernels: true only after probe_device passed the wgmma
// check on a sm_9.x device (device 0's compute capability; state of the last probe).
bool wgmma_enabled();
// Why wgmma is on or off ("not probed", "not a sm_90 device (sm_86)", "enabled", "disabled: ..."),
// for `devices` and logs.
std::string wgmma_status();

}  // namespace pd_cuda
