// The RTT histogram of the active side (tcp/rtt.hh). The load generator that
// records into it is tested in tests/unit/gen.
#include "tcp/rtt.hh"

#include <gtest/gtest.h>

namespace fg::tcp {
namespace {

TEST(rtt_histogram, BucketsBoundTheirValuesWithinOneSixteenth)
{
    for (uint32_t v : {0u, 1u, 31u, 32u, 33u, 100u, 1000u, 12345u, 999999u, 59999999u, 60000000u}) {
        const uint32_t b = rtt_histogram::bucket_of(v);
        EXPECT_LE(rtt_histogram::bucket_low(b), v);
        EXPECT_GE(rtt_histogram::bucket_high(b), v);
        EXPECT_LE(rtt_histogram::bucket_high(b) - rtt_histogram::bucket_low(b), v / 16) << v;
        EXPECT_LT(b, rtt_histogram::n_buckets);
    }
    // Consecutive buckets tile the value range.
    for (uint32_t b = 1; b < rtt_histogram::n_buckets; b++) {
        EXPECT_EQ(rtt_histogram::bucket_low(b), rtt_histogram::bucket_high(b - 1) + 1) << b;
    }
}

TEST(rtt_histogram, PercentilesAndMerge)
{
    rtt_histogram a;
    rtt_histogram b;
    for (uint32_t i = 1; i <= 100; i++) {
        a.record(i * 100); // 100 .. 10000 us
    }
    b.record(500000);
    EXPECT_EQ(a.percentile(0), 100u);
    EXPECT_EQ(a.percentile(100), 10000u);
    const uint32_t p50 = a.percentile(50);
    EXPECT_GE(p50, 5000u);
    EXPECT_LE(p50, 5000u + 5000u / 16);
    const uint32_t p99 = a.percentile(99);
    EXPECT_GE(p99, 9900u);
    EXPECT_LE(p99, 10000u);
    a.merge(b);
    EXPECT_EQ(a.count(), 101u);
    EXPECT_EQ(a.max(), 500000u);
    EXPECT_EQ(a.percentile(100), 500000u);
    EXPECT_EQ(a.min(), 100u);
    EXPECT_DOUBLE_EQ(a.mean(), (505000.0 + 500000.0) / 101.0);
    rtt_histogram e;
    EXPECT_EQ(e.percentile(50), 0u);
    e.record(90000000u); // above 60 s: last bucket, exact max
    EXPECT_EQ(e.percentile(100), 90000000u);
}

} // namespace
} // namespace fg::tcp
