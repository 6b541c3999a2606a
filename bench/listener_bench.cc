// Listener table lookups as an lcore does them on every SYN: exact-address
// listener hit, wildcard listener hit, miss on a port nobody binds, and miss
// on a port bound to another address. 2000 listening ports (1000 exact, 1000
// wildcard), random order; the reader reports a quiescent state every 32
// lookups, as the lcore loop does once per burst. No EAL needed.
// Run: taskset -c 1 build/bench/bench-listener
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "base/tuple.hh"
#include "table/listener_table.hh"

namespace {

using fg::table::listener_table;

constexpr uint32_t n_ports = 1000; // per kind
constexpr uint32_t n_probe = 4096;

struct fixture {
    listener_table t;
    rte_be32_t local = rte_cpu_to_be_32(fg::ipv4(198, 18, 0, 1));
    rte_be32_t other = rte_cpu_to_be_32(fg::ipv4(198, 18, 0, 2));
    std::vector<rte_be16_t> exact, wild, unbound, bound_other;

    fixture()
    {
        t.init(4);
        t.register_reader(0);
        std::vector<uint16_t> ports(60000);
        for (uint32_t i = 0; i < ports.size(); i++) {
            ports[i] = uint16_t(1024 + i);
        }
        std::shuffle(ports.begin(), ports.end(), std::mt19937(1));
        uint32_t k = 0;
        for (uint32_t i = 0; i < n_ports; i++) {
            const rte_be16_t pe = rte_cpu_to_be_16(ports[k++]);
            const rte_be16_t pw = rte_cpu_to_be_16(ports[k++]);
            const rte_be16_t pb = rte_cpu_to_be_16(ports[k++]);
            t.bind(listener_table::entry{local, pe, true, false, i, nullptr});
            t.bind(listener_table::entry{0, pw, true, false, n_ports + i, nullptr});
            t.bind(listener_table::entry{other, pb, true, false, 2 * n_ports + i, nullptr});
            exact.push_back(pe);
            wild.push_back(pw);
            bound_other.push_back(pb);
            unbound.push_back(rte_cpu_to_be_16(ports[k++]));
        }
        t.synchronize();
    }
};

fixture& fx()
{
    static fixture f;
    return f;
}

std::vector<rte_be16_t> probes(const std::vector<rte_be16_t>& from)
{
    std::mt19937 rng(2);
    std::vector<rte_be16_t> v(n_probe);
    for (auto& p : v) {
        p = from[rng() % from.size()];
    }
    return v;
}

void run(benchmark::State& state, const std::vector<rte_be16_t>& from, bool expect_hit)
{
    fixture& f = fx();
    const auto v = probes(from);
    uint32_t i = 0;
    uint64_t wrong = 0;
    for (auto _ : state) {
        const listener_table::entry* e = f.t.lookup(f.local, v[i & (n_probe - 1)]);
        wrong += (e != nullptr) != expect_hit;
        benchmark::DoNotOptimize(e);
        if ((++i & 31) == 0) {
            f.t.quiescent(0);
        }
    }
    if (wrong != 0) {
        state.SkipWithError("unexpected lookup result");
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}

void BM_ListenerLookupExact(benchmark::State& state) { run(state, fx().exact, true); }
BENCHMARK(BM_ListenerLookupExact);

void BM_ListenerLookupWildcard(benchmark::State& state) { run(state, fx().wild, true); }
BENCHMARK(BM_ListenerLookupWildcard);

void BM_ListenerLookupMissUnbound(benchmark::State& state) { run(state, fx().unbound, false); }
BENCHMARK(BM_ListenerLookupMissUnbound);

void BM_ListenerLookupMissOtherAddress(benchmark::State& state) { run(state, fx().bound_other, false); }
BENCHMARK(BM_ListenerLookupMissOtherAddress);

} // namespace

BENCHMARK_MAIN();
