// Ephemeral port allocation (Linux __inet_hash_connect algorithm, restricted
// to 4-tuples this lcore owns) against a busy set at 10% and 90% occupancy of
// the lcore's ports for one destination, default range 32768..60999.
// The busy set is an open-addressing hash set written here (linear probing,
// 12-byte keys, backward-shift delete): what the established table's lookup
// costs, roughly; std::unordered_set is measured once for comparison.
// Run: taskset -c 1 build/bench/bench-port
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <unordered_set>
#include <vector>

#include "port/allocator.hh"
#include "smoke.hh"

namespace {

using fg::tuple4;
using fg::port::allocator;
using fg::port::tuple_state;

class tuple_set {
public:
    explicit tuple_set(std::size_t max_entries)
    {
        std::size_t cap = 16;
        while (cap < 2 * max_entries) {
            cap *= 2;
        }
        _slots.assign(cap, tuple4{});
        _mask = cap - 1;
    }
    bool contains(const tuple4& t) const
    {
        for (std::size_t i = hash(t) & _mask;; i = (i + 1) & _mask) {
            if (_slots[i] == t) {
                return true;
            }
            if (empty(_slots[i])) {
                return false;
            }
        }
    }
    void insert(const tuple4& t)
    {
        std::size_t i = hash(t) & _mask;
        while (!empty(_slots[i])) {
            if (_slots[i] == t) {
                return;
            }
            i = (i + 1) & _mask;
        }
        _slots[i] = t;
    }
    void erase(const tuple4& t)
    {
        std::size_t i = hash(t) & _mask;
        while (!(_slots[i] == t)) {
            if (empty(_slots[i])) {
                return;
            }
            i = (i + 1) & _mask;
        }
        // Backward-shift deletion keeps probe chains intact without tombstones.
        std::size_t j = i;
        for (;;) {
            j = (j + 1) & _mask;
            if (empty(_slots[j])) {
                break;
            }
            const std::size_t home = hash(_slots[j]) & _mask;
            if (((j - home) & _mask) >= ((j - i) & _mask)) {
                _slots[i] = _slots[j];
                i = j;
            }
        }
        _slots[i] = tuple4{};
    }

private:
    static bool empty(const tuple4& t) { return t.laddr == 0; }
    static std::size_t hash(const tuple4& t)
    {
        uint64_t a;
        uint32_t b;
        std::memcpy(&a, &t, 8);
        std::memcpy(&b, reinterpret_cast<const char*>(&t) + 8, 4);
        uint64_t h = (a ^ (uint64_t(b) << 17)) * 0x9E3779B97F4A7C15ull;
        return std::size_t(h ^ (h >> 32));
    }
    std::vector<tuple4> _slots;
    std::size_t _mask;
};

struct std_hash {
    std::size_t operator()(const tuple4& t) const noexcept
    {
        uint64_t a;
        uint32_t b;
        std::memcpy(&a, &t, 8);
        std::memcpy(&b, reinterpret_cast<const char*>(&t) + 8, 4);
        return std::size_t((a ^ (uint64_t(b) << 17)) * 0x9E3779B97F4A7C15ull);
    }
};

const rte_be32_t laddr = rte_cpu_to_be_32(fg::ipv4(198, 18, 0, 1));
const rte_be32_t raddr = rte_cpu_to_be_32(fg::ipv4(198, 19, 0, 10));
const rte_be16_t rport = rte_cpu_to_be_16(80);
constexpr fg::siphash_key key{{0x1234, 0x5678}};

tuple4 tuple_of(uint16_t port) { return tuple4{laddr, raddr, rte_cpu_to_be_16(port), rport}; }

// The 4-tuples lcore 0 owns in the default range for our destination.
std::vector<tuple4> owned(const fg::steering& s)
{
    std::vector<tuple4> v;
    for (uint32_t p = 32768; p <= 60999; p++) {
        if (s.owner(tuple_of(uint16_t(p))) == 0) {
            v.push_back(tuple_of(uint16_t(p)));
        }
    }
    return v;
}

// occ% of the owned 4-tuples busy, chosen at random; returns the busy ones.
template <class Set>
std::vector<tuple4> fill(Set& set, std::vector<tuple4> mine, int occ)
{
    std::mt19937 rng(11);
    std::shuffle(mine.begin(), mine.end(), rng);
    mine.resize(mine.size() * std::size_t(occ) / 100);
    for (const auto& t : mine) {
        set.insert(t);
    }
    return mine;
}

// Allocation against a fixed busy set: the allocator's perturbation table
// moves every call's start, so each call finds its own free port.
// Args: occupancy %, owner lcores.
void BM_PortAlloc(benchmark::State& state)
{
    fg::steering s(uint16_t(state.range(1)));
    allocator a(fg::port::config{}, s, 0, key);
    auto mine = owned(s);
    tuple_set busy(mine.size());
    fill(busy, mine, int(state.range(0)));
    auto in_use = [&](const tuple4& t) { return busy.contains(t) ? tuple_state::busy : tuple_state::free; };
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.alloc(laddr, raddr, rport, in_use));
    }
    state.counters["probes_per_call"] = double(a.stats().probes) / double(state.iterations());
    state.counters["owned_ports"] = double(mine.size());
}
BENCHMARK(BM_PortAlloc)->Args({10, 1})->Args({90, 1})->Args({10, 2})->Args({90, 2})->Args({10, 4})->Args({90, 4});

// Steady churn: allocate, insert the new 4-tuple, free a random busy one.
// Includes one set insert and one set erase per call.
// Args: occupancy %, owner lcores, remember_full_parity (0 = exactly Linux).
void BM_PortAllocChurn(benchmark::State& state)
{
    fg::steering s(uint16_t(state.range(1)));
    fg::port::config cfg;
    cfg.remember_full_parity = state.range(2) != 0;
    allocator a(cfg, s, 0, key);
    auto mine = owned(s);
    tuple_set busy(mine.size());
    auto live = fill(busy, mine, int(state.range(0)));
    auto in_use = [&](const tuple4& t) { return busy.contains(t) ? tuple_state::busy : tuple_state::free; };
    uint64_t x = 88172645463325252ull;
    for (auto _ : state) {
        const int p = a.alloc(laddr, raddr, rport, in_use);
        const tuple4 t = tuple_of(uint16_t(p));
        busy.insert(t);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::size_t v = std::size_t(x % live.size());
        busy.erase(live[v]);
        live[v] = t;
    }
    state.counters["probes_per_call"] = double(a.stats().probes) / double(state.iterations());
    state.counters["parity_skips_per_call"] = double(a.stats().parity_skips) / double(state.iterations());
}
BENCHMARK(BM_PortAllocChurn)
    ->Args({10, 2, 1})
    ->Args({40, 2, 1})
    ->Args({60, 2, 1})
    ->Args({90, 2, 1})
    ->Args({10, 2, 0})
    ->Args({60, 2, 0})
    ->Args({90, 2, 0});

// The same at 90% with std::unordered_set as the busy set.
void BM_PortAllocStdSet(benchmark::State& state)
{
    fg::steering s(2);
    allocator a(fg::port::config{}, s, 0, key);
    auto mine = owned(s);
    std::unordered_set<tuple4, std_hash> busy;
    fill(busy, mine, int(state.range(0)));
    auto in_use = [&](const tuple4& t) { return busy.count(t) ? tuple_state::busy : tuple_state::free; };
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.alloc(laddr, raddr, rport, in_use));
    }
    state.counters["probes_per_call"] = double(a.stats().probes) / double(state.iterations());
}
BENCHMARK(BM_PortAllocStdSet)->Arg(10)->Arg(90);

// Linux's known worst case: every port of lo's parity busy (one destination,
// half the range used), so every call scans that parity before the other.
// Arg: remember_full_parity (0 = exactly Linux).
void BM_PortAllocOneParityFull(benchmark::State& state)
{
    fg::steering s(2);
    fg::port::config cfg;
    cfg.remember_full_parity = state.range(0) != 0;
    allocator a(cfg, s, 0, key);
    auto mine = owned(s);
    tuple_set busy(mine.size());
    for (const auto& t : mine) {
        if (rte_be_to_cpu_16(t.lport) % 2 == 0) {
            busy.insert(t);
        }
    }
    auto in_use = [&](const tuple4& t) { return busy.contains(t) ? tuple_state::busy : tuple_state::free; };
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.alloc(laddr, raddr, rport, in_use));
    }
    state.counters["probes_per_call"] = double(a.stats().probes) / double(state.iterations());
}
BENCHMARK(BM_PortAllocOneParityFull)->Arg(0)->Arg(1);

// Many destinations (1024 servers; 16 in a smoke run, smoke.hh), 50% of each
// one's ports busy: the per-call SipHash and steering hash with a cold
// perturbation slot.
void BM_PortAllocManyDestinations(benchmark::State& state)
{
    fg::steering s(2);
    allocator a(fg::port::config{}, s, 0, key);
    const uint32_t n_dst = fg::bench::sized(1024u, 16u); // a power of two: indexed with a mask
    tuple_set busy(n_dst * 15000);
    std::mt19937 rng(5);
    std::vector<rte_be32_t> dsts(n_dst);
    for (uint32_t d = 0; d < n_dst; d++) {
        dsts[d] = rte_cpu_to_be_32(fg::ipv4(198, 19, uint8_t(d >> 8), uint8_t(d)));
        for (uint32_t p = 32768; p <= 60999; p++) {
            const tuple4 t{laddr, dsts[d], rte_cpu_to_be_16(uint16_t(p)), rport};
            if (s.owner(t) == 0 && rng() % 2 == 0) {
                busy.insert(t);
            }
        }
    }
    auto in_use = [&](const tuple4& t) { return busy.contains(t) ? tuple_state::busy : tuple_state::free; };
    uint32_t k = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.alloc(laddr, dsts[(k++ * 389) & (n_dst - 1)], rport, in_use));
    }
    state.counters["probes_per_call"] = double(a.stats().probes) / double(state.iterations());
}
BENCHMARK(BM_PortAllocManyDestinations);

} // namespace

BENCHMARK_MAIN();
