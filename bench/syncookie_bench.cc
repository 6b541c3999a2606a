// SYN cookie make / check, ISN and timestamp-offset cost, the per-packet
// crypto of a SYN-ACK (10 Mpps on one lcore leaves ~245 cycles per SYN at
// 2.45 GHz for everything; hashing should stay well under 50 ns), one call
// at a time and batched over rx bursts on every SIMD variant the CPU has.
// Run: taskset -c 1 build/bench/bench-syncookie [--benchmark_filter=Burst]
#include <benchmark/benchmark.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/cpu.hh"
#include "base/siphash_lanes.hh"
#include "tcp/isn.hh"
#include "tcp/negotiate.hh"
#include "tcp/syncookie.hh"

namespace {

constexpr std::size_t n_tuples = 4096; // power of two: index with a mask

std::vector<fg::tuple4> tuples()
{
    std::mt19937 rng(7);
    std::vector<fg::tuple4> v(n_tuples);
    for (auto& t : v) {
        t = fg::tuple4{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
    }
    return v;
}

const fg::siphash_key k0{{1, 2}};
const fg::siphash_key k1{{3, 4}};

void BM_CookieMake(benchmark::State& state)
{
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = i++ & (n_tuples - 1);
        uint16_t mss = 0;
        benchmark::DoNotOptimize(c.make(v[j], uint32_t(j), 1460, 1000, &mss));
        benchmark::DoNotOptimize(mss);
    }
}
BENCHMARK(BM_CookieMake);

void BM_CookieCheck(benchmark::State& state)
{
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> cookies(n_tuples);
    for (std::size_t j = 0; j < n_tuples; j++) {
        cookies[j] = c.make(v[j], uint32_t(j), 1460, 1000);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = i++ & (n_tuples - 1);
        uint16_t mss = 0;
        benchmark::DoNotOptimize(c.check(v[j], cookies[j], uint32_t(j), 1001, &mss));
        benchmark::DoNotOptimize(mss);
    }
}
BENCHMARK(BM_CookieCheck);

// A forged cookie: the age test usually fails after the first hash.
void BM_CookieCheckForged(benchmark::State& state)
{
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = i++ & (n_tuples - 1);
        benchmark::DoNotOptimize(c.check(v[j], uint32_t(j * 2654435761u), uint32_t(j), 1001));
    }
}
BENCHMARK(BM_CookieCheckForged);

// ---- batched hashing, per SIMD variant and rx burst size ----------------------------
//
// Args: {level, burst}: level 0 = scalar, 1 = avx2, 2 = avx512 (forced with
// fg::simd_scope; a level the CPU lacks is reported as skipped), burst = SYNs
// or ACKs per call, as an rx burst delivers them. The ns_each counter is CPU
// time per cookie / tuple / hash. Compare variants at the same burst size
// (same run) for the ratios; BM_SynHashes is everything the responder hashes
// per SYN-ACK (cookie H0 + H1 and the timestamp offset).

constexpr int64_t max_burst = 32;
const std::vector<int64_t> levels = {0, 1, 2};
const std::vector<int64_t> bursts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 24, 32};

// Forces the level for the benchmark's duration; false (and the benchmark
// skipped, saying why) if the CPU lacks it.
bool force_level(benchmark::State& state, std::optional<fg::simd_scope>& scope)
{
    const auto level = fg::simd(state.range(0));
    state.SetLabel(fg::simd_name(level));
    scope.emplace(level);
    if (!scope->ok()) {
        state.SkipWithError((std::string("CPU lacks ") + fg::simd_name(level)).c_str());
        return false;
    }
    return true;
}

void per_item(benchmark::State& state, int64_t per_iteration)
{
    state.SetItemsProcessed(int64_t(state.iterations()) * per_iteration);
    state.counters["ns_each"] = benchmark::Counter(double(int64_t(state.iterations()) * per_iteration),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Walks the tuple pool burst by burst, so every call sees new tuples.
struct cursor {
    std::size_t j = 0;
    std::size_t next(std::size_t burst)
    {
        j += burst;
        if (j + burst > n_tuples) {
            j = 0;
        }
        return j;
    }
};

void BM_CookieMakeBurst(benchmark::State& state)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto burst = std::size_t(state.range(1));
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> isn(n_tuples);
    std::vector<uint16_t> mss(n_tuples);
    for (std::size_t j = 0; j < n_tuples; j++) {
        isn[j] = uint32_t(j * 2654435761u);
        mss[j] = uint16_t(536 + j % 1000);
    }
    uint32_t out[max_burst];
    uint16_t mss_out[max_burst];
    cursor at;
    for (auto _ : state) {
        const std::size_t j = at.next(burst);
        c.make_burst(burst, &v[j], &isn[j], &mss[j], 1000, out, mss_out);
        benchmark::DoNotOptimize(out);
        benchmark::DoNotOptimize(mss_out);
    }
    per_item(state, int64_t(burst));
}
BENCHMARK(BM_CookieMakeBurst)->ArgsProduct({levels, bursts});

// forged = 0: every ACK carries a good cookie (two hashes each);
// forged = 1: a flood of random ACK numbers (one hash each, almost always).
void cookie_check_burst(benchmark::State& state, bool forged)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto burst = std::size_t(state.range(1));
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> isn(n_tuples);
    std::vector<uint32_t> cookies(n_tuples);
    for (std::size_t j = 0; j < n_tuples; j++) {
        isn[j] = uint32_t(j);
        cookies[j] = forged ? uint32_t(j * 2654435761u) : c.make(v[j], isn[j], 1460, 1000);
    }
    uint16_t mss_out[max_burst];
    cursor at;
    std::size_t valid = 0;
    for (auto _ : state) {
        const std::size_t j = at.next(burst);
        valid += c.check_burst(burst, &v[j], &cookies[j], &isn[j], 1001, mss_out);
        benchmark::DoNotOptimize(mss_out);
    }
    benchmark::DoNotOptimize(valid);
    per_item(state, int64_t(burst));
}
void BM_CookieCheckBurst(benchmark::State& state) { cookie_check_burst(state, false); }
BENCHMARK(BM_CookieCheckBurst)->ArgsProduct({levels, bursts});
void BM_CookieCheckForgedBurst(benchmark::State& state) { cookie_check_burst(state, true); }
BENCHMARK(BM_CookieCheckForgedBurst)->ArgsProduct({levels, {8, 32}});

void BM_TsOffsetBurst(benchmark::State& state)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto burst = std::size_t(state.range(1));
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    uint32_t out[max_burst];
    cursor at;
    for (auto _ : state) {
        g.ts_offset_burst(burst, &v[at.next(burst)], out);
        benchmark::DoNotOptimize(out);
    }
    per_item(state, int64_t(burst));
}
BENCHMARK(BM_TsOffsetBurst)->ArgsProduct({levels, bursts});

void BM_IsnBurst(benchmark::State& state)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto burst = std::size_t(state.range(1));
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    uint32_t out[max_burst];
    cursor at;
    uint64_t now = 1ull << 40;
    for (auto _ : state) {
        g.isn_burst(burst, &v[at.next(burst)], now, out);
        benchmark::DoNotOptimize(out);
        now += 100;
    }
    per_item(state, int64_t(burst));
}
BENCHMARK(BM_IsnBurst)->ArgsProduct({levels, {1, 8, 32}});

// All the hashing of a cookie SYN-ACK, per SYN: make_burst (H0, H1) and
// ts_offset_burst over the same rx burst.
void BM_SynHashes(benchmark::State& state)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto burst = std::size_t(state.range(1));
    const fg::tcp::syncookie c(k0, k1);
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> isn(n_tuples);
    std::vector<uint16_t> mss(n_tuples, 1460);
    for (std::size_t j = 0; j < n_tuples; j++) {
        isn[j] = uint32_t(j * 2654435761u);
    }
    uint32_t cookie[max_burst];
    uint16_t mss_out[max_burst];
    uint32_t ts_off[max_burst];
    cursor at;
    for (auto _ : state) {
        const std::size_t j = at.next(burst);
        c.make_burst(burst, &v[j], &isn[j], &mss[j], 1000, cookie, mss_out);
        g.ts_offset_burst(burst, &v[j], ts_off);
        benchmark::DoNotOptimize(cookie);
        benchmark::DoNotOptimize(ts_off);
    }
    per_item(state, int64_t(burst));
}
BENCHMARK(BM_SynHashes)->ArgsProduct({levels, bursts});

// The kernels themselves: 32 lanes per call. Args {level, sets, words}:
// sets = register sets per step (1 or 2: how each level's default was
// chosen), words = 2, 3 or 4 u32 (ts_offset, ISN, cookie).
void BM_SiphashLanes(benchmark::State& state)
{
    std::optional<fg::simd_scope> scope;
    if (!force_level(state, scope)) {
        return;
    }
    const auto level = fg::simd(state.range(0));
    const int sets = int(state.range(1));
    const auto len = fg::sip_len(4 * state.range(2));
    state.SetLabel(std::string(fg::simd_name(level)) + " sets " + std::to_string(sets));
    std::vector<uint64_t> m0(n_tuples), m1(n_tuples);
    std::mt19937_64 rng(3);
    for (std::size_t j = 0; j < n_tuples; j++) {
        m0[j] = rng();
        m1[j] = rng();
    }
    alignas(64) uint64_t out[max_burst];
    cursor at;
    for (auto _ : state) {
        const std::size_t j = at.next(max_burst);
        fg::detail::siphash_lanes_sets(level, sets, k0, len, max_burst, &m0[j], &m1[j], out);
        benchmark::DoNotOptimize(out);
    }
    per_item(state, max_burst);
}
BENCHMARK(BM_SiphashLanes)->ArgsProduct({levels, {1, 2}, {2, 3, 4}});

void BM_CookieTsval(benchmark::State& state)
{
    fg::tcp::cookie_options o;
    o.wscale_ok = true;
    o.snd_wscale = 7;
    o.sack_ok = true;
    uint32_t now = 123456789;
    for (auto _ : state) {
        benchmark::DoNotOptimize(fg::tcp::syncookie::make_tsval(now++, o));
    }
}
BENCHMARK(BM_CookieTsval);

void BM_Isn(benchmark::State& state)
{
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    std::size_t i = 0;
    uint64_t now = 1ull << 40;
    for (auto _ : state) {
        const std::size_t j = i++ & (n_tuples - 1);
        benchmark::DoNotOptimize(g.isn(v[j], now));
        now += 100;
    }
}
BENCHMARK(BM_Isn);

void BM_IsnMonoClock(benchmark::State& state)
{
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(g.isn(v[i++ & (n_tuples - 1)]));
    }
}
BENCHMARK(BM_IsnMonoClock);

void BM_TsOffset(benchmark::State& state)
{
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(g.ts_offset(v[i++ & (n_tuples - 1)]));
    }
}
BENCHMARK(BM_TsOffset);

void BM_NegotiatePassive(benchmark::State& state)
{
    fg::tcp::syn_options syn;
    syn.has_mss = true;
    syn.mss = 1460;
    syn.has_wscale = true;
    syn.wscale = 7;
    syn.sack_ok = true;
    syn.has_ts = true;
    const fg::tcp::local_settings s;
    uint32_t ts = 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(syn);
        const fg::tcp::negotiated n = fg::tcp::negotiate_passive(syn, s);
        benchmark::DoNotOptimize(fg::tcp::synack_options(n, s, ts++));
    }
}
BENCHMARK(BM_NegotiatePassive);

} // namespace

BENCHMARK_MAIN();
