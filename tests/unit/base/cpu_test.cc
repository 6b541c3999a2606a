#include <gtest/gtest.h>

#include <cstdlib>

#include "base/cpu.hh"

namespace fg {
namespace {

TEST(Simd, NamesRoundTrip)
{
    for (simd l : simd_levels) {
        simd back = simd::avx512;
        ASSERT_TRUE(parse_simd(simd_name(l), back)) << simd_name(l);
        EXPECT_EQ(back, l);
    }
    simd untouched = simd::avx2;
    EXPECT_FALSE(parse_simd("AVX2", untouched));
    EXPECT_FALSE(parse_simd("sse", untouched));
    EXPECT_FALSE(parse_simd("", untouched));
    EXPECT_EQ(untouched, simd::avx2);
}

TEST(Simd, LevelsAreOrdered)
{
    EXPECT_LT(simd::scalar, simd::avx2);
    EXPECT_LT(simd::avx2, simd::avx512);
    EXPECT_TRUE(simd_supports(simd::scalar));
}

// What this CPU has, for the test log (the per-variant suites say which
// variants they skipped).
TEST(Simd, ReportsWhatThisCpuSupports)
{
    std::string have;
    for (simd l : simd_levels) {
        have += std::string(simd_name(l)) + (simd_supports(l) ? ":yes " : ":no ");
    }
    std::printf("SIMD levels on this CPU: %s(active: %s)\n", have.c_str(), simd_name(simd_active()));
    EXPECT_EQ(simd_supports(simd::avx512), simd_supported() == simd::avx512);
}

TEST(SimdChoice, UnsetOrAutoMeansWidest)
{
    for (simd cpu : simd_levels) {
        for (const char* env : {static_cast<const char*>(nullptr), "", "auto"}) {
            const simd_choice c = choose_simd(env, cpu);
            EXPECT_EQ(c.level, cpu);
            EXPECT_FALSE(c.error);
            EXPECT_EQ(c.note, "");
        }
    }
}

TEST(SimdChoice, NarrowerIsHonouredAndSaidSo)
{
    const simd_choice c = choose_simd("scalar", simd::avx512);
    EXPECT_EQ(c.level, simd::scalar);
    EXPECT_FALSE(c.error);
    EXPECT_NE(c.note.find("scalar"), std::string::npos) << c.note;
    EXPECT_EQ(choose_simd("avx2", simd::avx512).level, simd::avx2);
    EXPECT_EQ(choose_simd("avx2", simd::avx2).level, simd::avx2);
    EXPECT_EQ(choose_simd("avx512", simd::avx512).level, simd::avx512);
}

TEST(SimdChoice, NeverWiderThanTheCpu)
{
    simd_choice c = choose_simd("avx512", simd::avx2);
    EXPECT_EQ(c.level, simd::avx2);
    EXPECT_TRUE(c.error);
    EXPECT_NE(c.note.find("lacks avx512"), std::string::npos) << c.note;
    c = choose_simd("avx2", simd::scalar);
    EXPECT_EQ(c.level, simd::scalar);
    EXPECT_TRUE(c.error);
    c = choose_simd("avx512", simd::scalar);
    EXPECT_EQ(c.level, simd::scalar);
    EXPECT_TRUE(c.error);
}

TEST(SimdChoice, UnknownNameIsAnErrorAndIgnored)
{
    const simd_choice c = choose_simd("avx3", simd::avx2);
    EXPECT_EQ(c.level, simd::avx2);
    EXPECT_TRUE(c.error);
    EXPECT_NE(c.note.find("not understood"), std::string::npos) << c.note;
    EXPECT_NE(c.note.find("avx3"), std::string::npos) << c.note;
}

// The suites run once per FG_SIMD value (tests/unit/*/meson.build): the
// level in use must be the one the variable asked for, lowered to the CPU's.
TEST(Simd, ActiveLevelFollowsEnvironment)
{
    const char* env = std::getenv("FG_SIMD");
    simd want = simd_supported();
    simd asked{};
    if (env != nullptr && parse_simd(env, asked)) {
        want = std::min(asked, simd_supported());
    }
    EXPECT_EQ(simd_active(), want) << "FG_SIMD=" << (env != nullptr ? env : "(unset)");
}

TEST(Simd, SetAndScope)
{
    const simd before = simd_active();
    for (simd l : simd_levels) {
        simd_scope s(l);
        EXPECT_EQ(s.ok(), simd_supports(l));
        EXPECT_EQ(simd_active(), s.ok() ? l : before);
    }
    EXPECT_EQ(simd_active(), before);
}

TEST(Simd, RefusesLevelsTheCpuLacks)
{
    if (simd_supported() == simd::avx512) {
        GTEST_SKIP() << "this CPU supports every level: nothing to refuse";
    }
    const simd before = simd_active();
    EXPECT_FALSE(set_simd(simd::avx512));
    EXPECT_EQ(simd_active(), before);
    const simd_scope s(simd::avx512);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(simd_active(), before);
}

} // namespace
} // namespace fg
