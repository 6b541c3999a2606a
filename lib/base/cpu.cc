#include "base/cpu.hh"

#include <atomic>
#include <cstdlib>

#include "base/log.hh"

namespace fg {

const char* simd_name(simd l)
{
    switch (l) {
#define FG_X(e, s)                                                                                                  \
    case simd::e:                                                                                                   \
        return s;
        FG_SIMD_LEVELS(FG_X)
#undef FG_X
    }
    return "?";
}

bool parse_simd(std::string_view s, simd& out)
{
#define FG_X(e, str)                                                                                                \
    if (s == str) {                                                                                                 \
        out = simd::e;                                                                                              \
        return true;                                                                                                \
    }
    FG_SIMD_LEVELS(FG_X)
#undef FG_X
    return false;
}

namespace {

simd detect()
{
    __builtin_cpu_init(); // may run before libgcc's own constructor
#if defined(__clang__)
    // clang 14 knows no "x86-64-vN" names here: test the features GCC's
    // levels name that a compiler emits in integer vector code.
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
#else
    // Exactly the sets the variants are compiled for (libgcc also checks
    // that the OS saves the ymm/zmm state, XCR0).
    const bool v3 = __builtin_cpu_supports("x86-64-v3");
    const bool v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    return v4 ? simd::avx512 : v3 ? simd::avx2 : simd::scalar;
}

} // namespace

simd simd_supported()
{
    static const simd s = detect();
    return s;
}

simd_choice choose_simd(const char* env, simd supported)
{
    const std::string widest = simd_name(supported);
    if (env == nullptr || *env == '\0' || std::string_view(env) == "auto") {
        return {supported, "", false};
    }
    simd want{};
    if (!parse_simd(env, want)) {
        return {supported,
                "FG_SIMD=" + std::string(env) + " not understood (scalar|avx2|avx512|auto): using " + widest +
                    ", the widest this CPU supports",
                true};
    }
    if (want > supported) {
        return {supported,
                "FG_SIMD=" + std::string(env) + ": this CPU lacks " + simd_name(want) + ", using " + widest, true};
    }
    return {want, "SIMD level " + std::string(simd_name(want)) + " (FG_SIMD; this CPU supports up to " + widest + ")",
            false};
}

namespace detail {

std::atomic<uint8_t> simd_now{simd_undecided};

simd simd_decide()
{
    // Once, whichever thread gets here first; the note is logged once.
    static const simd decided = [] {
        const simd_choice c = choose_simd(std::getenv("FG_SIMD"), simd_supported());
        if (!c.note.empty()) {
            if (c.error) {
                FG_LOG(WARNING, "%s", c.note.c_str());
            } else {
                FG_LOG(INFO, "%s", c.note.c_str());
            }
        }
        uint8_t undecided = simd_undecided; // a set_simd() that ran first wins
        simd_now.compare_exchange_strong(undecided, uint8_t(c.level), std::memory_order_relaxed);
        return c.level;
    }();
    (void)decided;
    return simd(simd_now.load(std::memory_order_relaxed));
}

} // namespace detail

bool set_simd(simd l)
{
    if (!simd_supports(l)) {
        return false;
    }
    detail::simd_decide(); // FG_SIMD is read (and its note logged) once, even when a test forces levels
    detail::simd_now.store(uint8_t(l), std::memory_order_relaxed);
    return true;
}

} // namespace fg
