// libFuzzer target for the frame classifier: any byte string is a frame.
// Each input is classified three ways (no rx offload flags, NIC says GOOD, NIC
// says BAD), so the fuzzer also gets past the checksum checks it could hardly
// satisfy by mutation, and every invariant of check_frame.hh is asserted.
// Build: CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true
//        ninja -C build-fuzz tests/fuzz/fuzz-classify
// Run:   build-fuzz/tests/fuzz/fuzz-classify -max_total_time=60 tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <rte_mbuf_core.h>

#include "check_frame.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > UINT32_MAX) {
        return 0;
    }
    // An exact-size copy: libFuzzer's own buffer is exact-size too, but copying
    // makes the 2-byte alignment classify() documents explicit.
    std::unique_ptr<uint8_t[]> frame(new uint8_t[size == 0 ? 1 : size]);
    if (size != 0) {
        std::memcpy(frame.get(), data, size);
    }
    static const uint64_t flag_sets[] = {
        0,
        RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
        RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD,
    };
    for (uint64_t flags : flag_sets) {
        const char* err = fg::net::check::check_frame(frame.get(), uint32_t(size), flags);
        if (err != nullptr) {
            std::fprintf(stderr, "invariant violated (ol_flags %#llx): %s\n", (unsigned long long)flags, err);
            std::abort();
        }
    }
    return 0;
}
