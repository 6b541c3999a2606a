// SYN cookie make / check and ISN cost per call, the per-packet crypto of a
// SYN-ACK (the 20 Mpps target leaves ~50 ns per packet on one lcore).
// Run: taskset -c 1 build/bench/bench-syncookie
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

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

// Per-cookie cost of make_burst over a 32-SYN rx burst (state.iterations()
// counts cookies). BM_CookieMakeBurstScalar forces the portable kernel.
constexpr std::size_t burst = 32;

void BM_CookieMakeBurst(benchmark::State& state)
{
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> isn(n_tuples);
    std::vector<uint16_t> mss(n_tuples, 1460);
    for (std::size_t j = 0; j < n_tuples; j++) {
        isn[j] = uint32_t(j);
    }
    uint32_t out[burst];
    uint16_t mss_out[burst];
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = (i += burst) & (n_tuples - 1);
        c.make_burst(burst, &v[j], &isn[j], &mss[j], 1000, out, mss_out);
        benchmark::DoNotOptimize(out);
        benchmark::DoNotOptimize(mss_out);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
}
BENCHMARK(BM_CookieMakeBurst);

void BM_CookieCheckBurst(benchmark::State& state)
{
    const fg::tcp::syncookie c(k0, k1);
    const auto v = tuples();
    std::vector<uint32_t> isn(n_tuples);
    std::vector<uint32_t> cookies(n_tuples);
    for (std::size_t j = 0; j < n_tuples; j++) {
        isn[j] = uint32_t(j);
        cookies[j] = c.make(v[j], isn[j], 1460, 1000);
    }
    uint16_t mss_out[burst];
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = (i += burst) & (n_tuples - 1);
        benchmark::DoNotOptimize(c.check_burst(burst, &v[j], &cookies[j], &isn[j], 1001, mss_out));
        benchmark::DoNotOptimize(mss_out);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
}
BENCHMARK(BM_CookieCheckBurst);

// The 8-lane kernels themselves: one call = 8 cookie_hash() SipHashes.
void tuple_x8(benchmark::State& state, fg::tcp::detail::tuple_hash_x8_fn fn)
{
    const auto v = tuples();
    alignas(32) uint32_t extra[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    alignas(64) uint64_t out[8];
    std::size_t i = 0;
    for (auto _ : state) {
        fn(k0, fg::tcp::detail::tuple_hash::cookie, &v[(i += 8) & (n_tuples - 1)], extra, out);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * 8));
}
void BM_TupleHashX8Scalar(benchmark::State& state) { tuple_x8(state, fg::tcp::detail::tuple_hash_x8_scalar); }
BENCHMARK(BM_TupleHashX8Scalar);
void BM_TupleHashX8Avx512(benchmark::State& state)
{
    if (!fg::tcp::detail::cpu_has_avx512()) {
        state.SkipWithError("no AVX-512");
        return;
    }
    tuple_x8(state, fg::tcp::detail::tuple_hash_x8_avx512);
}
BENCHMARK(BM_TupleHashX8Avx512);

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

void BM_IsnBurst(benchmark::State& state)
{
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    uint32_t out[burst];
    std::size_t i = 0;
    uint64_t now = 1ull << 40;
    for (auto _ : state) {
        const std::size_t j = (i += burst) & (n_tuples - 1);
        g.isn_burst(burst, &v[j], now, out);
        benchmark::DoNotOptimize(out);
        now += 100;
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
}
BENCHMARK(BM_IsnBurst);

void BM_TsOffsetBurst(benchmark::State& state)
{
    const fg::tcp::isn_generator g(k0, k1);
    const auto v = tuples();
    uint32_t out[burst];
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t j = (i += burst) & (n_tuples - 1);
        g.ts_offset_burst(burst, &v[j], out);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
}
BENCHMARK(BM_TsOffsetBurst);

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
