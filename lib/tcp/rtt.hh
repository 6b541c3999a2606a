// rtt_histogram records handshake round-trip times (microseconds) so a load
// generator can report p50/p99/p99.9 without keeping samples. Buckets are
// log-linear (HdrHistogram's layout with 4 sub-bucket bits): values below 32
// us have a bucket each, above that every power of two is split into 16
// equal buckets, so any recorded value is known to within 1/16 (6.25 %) of
// itself. 0 .. 60 s takes 365 buckets of 8 bytes (3 KB): one per engine,
// recorded on the lcore with no atomics, merged across lcores by whoever
// reports (merge() is a plain sum, so merging is exact and order-free).
// Values above 60 s are counted in the last bucket; min and max are exact.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace fg::tcp {

namespace detail {
inline constexpr unsigned rtt_sub_bits = 4; // 16 buckets per power of two: <= 6.25 % error
// The bucket of a value: exact below 32, then (exponent, top 5 bits).
constexpr uint32_t rtt_bucket(uint32_t us)
{
    constexpr uint32_t sub = 1u << rtt_sub_bits;
    if (us < 2 * sub) {
        return us;
    }
    const uint32_t shift = uint32_t(31 - std::countl_zero(us)) - rtt_sub_bits; // >= 1
    return (shift + 1) * sub + ((us >> shift) - sub);
}
} // namespace detail

struct rtt_histogram {
    static constexpr unsigned sub_bits = detail::rtt_sub_bits;
    static constexpr uint32_t sub_count = 1u << sub_bits;
    static constexpr uint32_t max_us = 60u * 1000 * 1000;    // 60 s: longer than any SYN backoff we wait for
    static constexpr uint32_t n_buckets = detail::rtt_bucket(max_us) + 1;

    std::array<uint64_t, n_buckets> counts{};
    uint64_t n = 0;
    uint64_t sum_us = 0;
    uint32_t min_us = UINT32_MAX;
    uint32_t max_seen_us = 0;

    static uint32_t bucket_of(uint32_t us) { return detail::rtt_bucket(std::min(us, max_us)); }
    // Smallest and largest value a bucket holds.
    static constexpr uint32_t bucket_low(uint32_t b)
    {
        if (b < 2 * sub_count) {
            return b;
        }
        const uint32_t shift = b / sub_count - 1;
        return (sub_count + b % sub_count) << shift;
    }
    static constexpr uint32_t bucket_high(uint32_t b)
    {
        if (b < 2 * sub_count) {
            return b;
        }
        const uint32_t shift = b / sub_count - 1;
        return bucket_low(b) + (1u << shift) - 1;
    }

    void record(uint32_t us)
    {
        counts[bucket_of(us)]++;
        n++;
        sum_us += us;
        min_us = std::min(min_us, us);
        max_seen_us = std::max(max_seen_us, us);
    }

    void merge(const rtt_histogram& o)
    {
        for (uint32_t i = 0; i < n_buckets; i++) {
            counts[i] += o.counts[i];
        }
        n += o.n;
        sum_us += o.sum_us;
        min_us = std::min(min_us, o.min_us);
        max_seen_us = std::max(max_seen_us, o.max_seen_us);
    }

    void clear() { *this = rtt_histogram{}; }

    uint64_t count() const { return n; }
    uint32_t min() const { return n == 0 ? 0 : min_us; }
    uint32_t max() const { return max_seen_us; }
    double mean() const { return n == 0 ? 0.0 : double(sum_us) / double(n); }

    // The value at percentile p (0..100): the largest value of the bucket
    // holding the ceil(p% * n)-th smallest sample, clamped to [min, max]
    // (exactly min and max for the first and last sample). 0 when empty.
    uint32_t percentile(double p) const
    {
        if (n == 0) {
            return 0;
        }
        p = std::clamp(p, 0.0, 100.0);
        uint64_t rank = uint64_t(p / 100.0 * double(n) + 0.999999999);
        rank = std::clamp<uint64_t>(rank, 1, n);
        if (rank == 1) {
            return min_us; // the smallest and largest samples are known exactly
        }
        if (rank == n) {
            return max_seen_us;
        }
        uint64_t seen = 0;
        for (uint32_t b = 0; b < n_buckets; b++) {
            seen += counts[b];
            if (seen >= rank) {
                return std::clamp(bucket_high(b), min_us, max_seen_us);
            }
        }
        return max_seen_us;
    }
};

} // namespace fg::tcp
