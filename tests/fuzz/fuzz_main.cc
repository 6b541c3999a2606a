// libFuzzer entry points: one executable per body, chosen at compile time by
// FG_FUZZ_TARGET (engine, tcp_options, config). A violated invariant aborts
// with its description, which libFuzzer reports as a crash and saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine_fuzz.hh"
#include "options_fuzz.hh"

#define FG_STR2(x) #x
#define FG_STR(x) FG_STR2(x)

namespace {
const char* one(const uint8_t* data, size_t size)
{
#if FG_FUZZ_TARGET_ENGINE
    return fg::fuzz::engine_one(data, size);
#elif FG_FUZZ_TARGET_TCP_OPTIONS
    return fg::fuzz::tcp_options_one(data, size);
#else
    return fg::fuzz::config_one(data, size);
#endif
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
#if FG_FUZZ_TARGET_ENGINE
    std::string err;
    if (!fg::fuzz::engine_init(err)) {
        std::fprintf(stderr, "fuzz-engine: %s\n", err.c_str());
        std::abort();
    }
#endif
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const char* err = one(data, size);
    if (err != nullptr) {
        std::fprintf(stderr, "invariant violated: %s\n", err);
        std::abort();
    }
    return 0;
}
