// gen::config::share(): any split of connections, rate and concurrency over
// lcores works -- the shares add up to what was asked, and an lcore with
// nothing to do gets an idle generator rather than a refused configuration
// (fg-loadgen -l 0-1 --connections 1 used to fail: "generator needs cps > 0").
#include <gtest/gtest.h>

#include "gen/generator.hh"

namespace fg::gen {
namespace {

config gen(double cps, uint64_t total, uint32_t conc)
{
    config g;
    g.targets.push_back(make_tuple4(0, 0, 0xC6120002u, 80));
    g.cps = cps;
    g.total = total;
    g.concurrency = conc;
    return g;
}

// Checks the invariants of a split and returns how many lcores generate.
unsigned check_split(const config& all, uint16_t n)
{
    uint64_t total = 0;
    uint64_t conc = 0;
    double cps = 0;
    unsigned active = 0;
    for (uint16_t i = 0; i < n; i++) {
        const config g = all.share(n, i);
        if (g.targets.empty()) {
            EXPECT_EQ(g.cps, 0.0) << "idle lcore " << i;
            EXPECT_EQ(g.total, 0u);
            continue;
        }
        active++;
        // Targets with no rate would never open anything.
        EXPECT_GT(g.cps, 0.0) << "lcore " << i;
        if (all.total != 0) {
            EXPECT_GT(g.total, 0u) << "lcore " << i << ": a share of 0 would mean unlimited";
        } else {
            EXPECT_EQ(g.total, 0u);
        }
        if (all.concurrency != 0) {
            EXPECT_GT(g.concurrency, 0u) << "lcore " << i << ": a limit of 0 would mean unlimited";
        }
        total += g.total;
        conc += g.concurrency;
        cps += g.cps;
    }
    EXPECT_EQ(total, all.total);
    EXPECT_EQ(conc, all.concurrency);
    EXPECT_NEAR(cps, all.cps, all.cps * 1e-9);
    return active;
}

TEST(GeneratorShare, OneConnectionOnTwoLcores)
{
    EXPECT_EQ(check_split(gen(1000, 1, 0), 2), 1u);
}

TEST(GeneratorShare, FewerConnectionsThanLcores)
{
    EXPECT_EQ(check_split(gen(5000, 3, 0), 8), 3u);
}

TEST(GeneratorShare, ConcurrencyBelowLcoresLimitsGenerators)
{
    // --concurrency 1 on two lcores: one lcore generates, so at most one is open.
    EXPECT_EQ(check_split(gen(1000, 10, 1), 2), 1u);
    EXPECT_EQ(check_split(gen(1000, 0, 3), 4), 3u);
}

TEST(GeneratorShare, UnevenSplitsAddUp)
{
    for (uint16_t n = 1; n <= 7; n++) {
        for (uint64_t total : {0ull, 1ull, 2ull, 7ull, 100ull, 1000003ull}) {
            for (uint32_t conc : {0u, 1u, 5u, 1000u}) {
                SCOPED_TRACE(testing::Message() << "n " << n << " total " << total << " conc " << conc);
                const unsigned active = check_split(gen(2e6, total, conc), n);
                EXPECT_GE(active, 1u);
            }
        }
    }
}

TEST(GeneratorShare, LowRateIsSplitNotLost)
{
    // One connection per second over three lcores: a third each.
    const config all = gen(1, 0, 0);
    EXPECT_EQ(check_split(all, 3), 3u);
    EXPECT_DOUBLE_EQ(all.share(3, 2).cps, 1.0 / 3);
}

TEST(GeneratorShare, NoGeneratorStaysOff)
{
    config none; // a server: no targets, cps 0
    for (uint16_t i = 0; i < 2; i++) {
        const config g = none.share(2, i);
        EXPECT_TRUE(g.targets.empty());
        EXPECT_EQ(g.cps, 0.0);
    }
}

} // namespace
} // namespace fg::gen
