// Software steering: our table-driven Toeplitz against DPDK's bit-loop
// rte_softrss(). Run: build/bench/bench-steer
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include <rte_thash.h>

#include "base/steer.hh"

namespace {

std::vector<fg::tuple4> tuples(std::size_t n)
{
    std::mt19937 rng(7);
    std::vector<fg::tuple4> v(n);
    for (auto& t : v) {
        t = fg::tuple4{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
    }
    return v;
}

void BM_SteerTableToeplitz(benchmark::State& state)
{
    fg::steering s(2);
    auto v = tuples(4096);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(s.owner(v[i++ & 4095]));
    }
}
BENCHMARK(BM_SteerTableToeplitz);

void BM_SteerRteSoftrss(benchmark::State& state)
{
    fg::steering s(2);
    auto v = tuples(4096);
    std::size_t i = 0;
    for (auto _ : state) {
        const fg::tuple4& t = v[i++ & 4095];
        uint32_t in[3] = {rte_be_to_cpu_32(t.raddr), rte_be_to_cpu_32(t.laddr),
                          (uint32_t(rte_be_to_cpu_16(t.rport)) << 16) | rte_be_to_cpu_16(t.lport)};
        benchmark::DoNotOptimize(s.owner_of_hash(rte_softrss(in, 3, s.key().data())));
    }
}
BENCHMARK(BM_SteerRteSoftrss);

void BM_SteerLportDelta(benchmark::State& state)
{
    fg::steering s(2);
    auto v = tuples(4096);
    uint32_t base = s.hash(v[0]);
    uint16_t p = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(s.owner_of_hash(base ^ s.lport_delta(p++)));
    }
}
BENCHMARK(BM_SteerLportDelta);

} // namespace

BENCHMARK_MAIN();
