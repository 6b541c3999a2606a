// Which SIMD instruction sets the vectorised kernels may use, chosen at run
// time, so that one binary runs on every x86-64 machine we meet: these VMs
// are sometimes Sapphire Rapids (AVX-512), sometimes AMD Zen 3 (AVX2 only).
//
// Each kernel is compiled once per level with a function target attribute
// (GCC: target("arch=x86-64-v3") / target("arch=x86-64-v4"), which also keeps
// a -march=native build on an AVX-512 host from putting AVX-512 instructions
// into the AVX2 variant), and a kernel's dispatcher switches on
// simd_active(). Levels follow the x86-64 psABI micro-architecture levels,
// because that is the instruction set GCC is allowed to emit in each variant:
//
//   scalar  portable C++, any x86-64
//   avx2    x86-64-v3: AVX2, BMI1/2, FMA, LZCNT, MOVBE (Haswell, Zen 1-3); 4 x 64-bit lanes per ymm
//   avx512  x86-64-v4: v3 + AVX-512 F/BW/CD/DQ/VL (Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4);
//           8 x 64-bit lanes per zmm
//
// The level in use is the widest the CPU (and the OS: XSAVE state) supports,
// or a narrower one named by the environment variable FG_SIMD
// (scalar|avx2|avx512|auto), read once, the first time any kernel runs. A
// level wider than the CPU has is never used: asking for one logs a warning
// and uses the CPU's widest; an unknown name logs an error and is ignored.
// Tests and benchmarks switch levels with set_simd() (or simd_scope) to run
// every variant the CPU supports, whatever the CPU's widest is.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace fg {

#define FG_SIMD_LEVELS(X)                                                                                           \
    X(scalar, "scalar") /* portable C++ */                                                                          \
    X(avx2, "avx2")     /* x86-64-v3 */                                                                             \
    X(avx512, "avx512") /* x86-64-v4 */

// Ordered: a level implies every level before it.
enum class simd : uint8_t {
#define FG_X(e, s) e,
    FG_SIMD_LEVELS(FG_X)
#undef FG_X
};
inline constexpr simd simd_levels[] = {
#define FG_X(e, s) simd::e,
    FG_SIMD_LEVELS(FG_X)
#undef FG_X
};

const char* simd_name(simd l);
// "scalar" | "avx2" | "avx512" -> level. False (and `out` untouched) otherwise.
bool parse_simd(std::string_view s, simd& out);

// The widest level this CPU and OS support (CPUID via __builtin_cpu_supports).
simd simd_supported();
inline bool simd_supports(simd l) { return l <= simd_supported(); }

// What FG_SIMD=`env` (nullptr: unset) selects on a CPU whose widest level is
// `supported`; `note` gets the line to log ("" when there is nothing to say).
// Pure: the policy simd_active() applies, exposed for tests.
struct simd_choice {
    simd level;
    std::string note;
    bool error; // the value was not understood or asked for more than the CPU has
};
simd_choice choose_simd(const char* env, simd supported);

namespace detail {
inline constexpr uint8_t simd_undecided = 0xFF;
extern std::atomic<uint8_t> simd_now; // a simd, or simd_undecided before first use
simd simd_decide();                   // first use: FG_SIMD and the CPU
} // namespace detail

// The level kernels use now. The first call decides it from FG_SIMD and the
// CPU (logging choose_simd()'s note); later calls are one relaxed load.
inline simd simd_active()
{
    const uint8_t v = detail::simd_now.load(std::memory_order_relaxed);
    return __builtin_expect(v != detail::simd_undecided, 1) ? simd(v) : detail::simd_decide();
}

// Use `l` from now on, on every thread. Refuses (returns false, level
// unchanged) a level the CPU lacks. For tests and benchmarks: an lcore that
// is running a kernel while another thread switches may finish that kernel
// with either level (both give the same results).
bool set_simd(simd l);

// set_simd() for a scope, restoring the previous level on exit. ok() is
// false (and nothing changed) if the CPU lacks `l`.
class simd_scope {
public:
    explicit simd_scope(simd l) : _prev(simd_active()), _ok(set_simd(l)) {}
    ~simd_scope() { set_simd(_prev); }
    simd_scope(const simd_scope&) = delete;
    simd_scope& operator=(const simd_scope&) = delete;
    bool ok() const { return _ok; }

private:
    simd _prev;
    bool _ok;
};

} // namespace fg
