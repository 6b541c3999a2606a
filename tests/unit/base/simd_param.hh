// Runs a test once per SIMD level (base/cpu.hh): every variant this CPU
// supports is forced in turn with simd_scope, whatever the widest is, so the
// AVX2 path is tested on AVX-512 machines too; a level the CPU lacks is
// skipped with a message that says so ("CPU lacks avx512"), never silently.
// A fourth instance, "env", forces nothing: it runs the level FG_SIMD and
// the CPU chose, which the meson runs with FG_SIMD=scalar|avx2|avx512 use to
// test the variable end to end.
//
//   class MyTest : public fg::test::simd_test {};
//   TEST_P(MyTest, Thing) { ... level() is the variant under test ... }
//   FG_INSTANTIATE_SIMD(MyTest);
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

#include "base/cpu.hh"

namespace fg::test {

struct simd_param {
    bool forced; // false: the "env" instance
    simd level;
};

inline void PrintTo(const simd_param& p, std::ostream* os)
{
    *os << (p.forced ? simd_name(p.level) : "env");
}

inline const simd_param simd_params[] = {
    {true, simd::scalar},
    {true, simd::avx2},
    {true, simd::avx512},
    {false, simd::scalar},
};

inline std::string simd_param_name(const ::testing::TestParamInfo<simd_param>& i)
{
    return i.param.forced ? std::string(simd_name(i.param.level)) : std::string("env");
}

class simd_test : public ::testing::TestWithParam<simd_param> {
protected:
    void SetUp() override
    {
        if (!GetParam().forced) {
            const char* env = std::getenv("FG_SIMD");
            std::fprintf(stderr, "variant in use: %s (FG_SIMD=%s)\n", simd_name(simd_active()), env != nullptr ? env : "");
            return;
        }
        if (!simd_supports(GetParam().level)) {
            GTEST_SKIP() << "CPU lacks " << simd_name(GetParam().level)
                         << " (widest here: " << simd_name(simd_supported()) << "): variant not tested on this machine";
        }
        _scope.emplace(GetParam().level);
        ASSERT_EQ(simd_active(), GetParam().level);
    }
    void TearDown() override { _scope.reset(); }
    // The variant under test.
    simd level() const { return GetParam().forced ? GetParam().level : simd_active(); }

private:
    std::optional<simd_scope> _scope;
};

} // namespace fg::test

#define FG_INSTANTIATE_SIMD(suite)                                                                                  \
    INSTANTIATE_TEST_SUITE_P(Simd, suite, ::testing::ValuesIn(fg::test::simd_params), fg::test::simd_param_name)
