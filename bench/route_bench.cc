// Routing per call: rte_lpm lookup + source selection (route_table::lookup),
// the is_local bitmap against the range binary search it replaces, and a
// neighbour-table hit. EAL is started with --no-huge (rte_lpm needs EAL
// memory), so the 64 MB tbl24 sits on 4 KB pages: random destinations pay TLB
// misses that hugepages would avoid.
// Run: taskset -c 1 build/bench/bench-route
#include <benchmark/benchmark.h>

#include <sched.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_lpm.h>

#include "base/tuple.hh"
#include "route/neigh.hh"
#include "route/route.hh"

namespace {

using fg::ipv4;
using namespace fg::route;

constexpr std::size_t n_keys = 4096; // power of two: index with a mask

rte_be32_t be(uint32_t a) { return rte_cpu_to_be_32(a); }

void add(iface_addrs& a, uint16_t port, const char* s)
{
    addr_range r;
    std::string err;
    if (!parse_addr(s, r, err) || !a.add(port, r, err)) {
        fprintf(stderr, "bench-route: %s\n", err.c_str());
        abort();
    }
}

// A load generator's setup: 1014 + 3*256 source addresses on port 0, a second
// port, a few gateway routes and a default route.
struct setup {
    iface_addrs addrs;
    std::unique_ptr<route_table> rt;
    setup()
    {
        add(addrs, 0, "198.18.0.10-198.18.3.255/16");
        add(addrs, 0, "192.0.2.10/24");
        add(addrs, 1, "203.0.113.5/24");
        for (int i = 0; i < 5; i++) { // more ranges, so the binary search has depth
            const std::string s = "198.18." + std::to_string(10 + 2 * i) + ".0-198.18." + std::to_string(10 + 2 * i) +
                                  ".255/16";
            add(addrs, 0, s.c_str());
        }
        std::string err;
        rt = route_table::create(addrs, err);
        if (!rt || !rt->add_route(ipv4(10, 0, 0, 0), 8, ipv4(192, 0, 2, 1), err) ||
            !rt->add_route(ipv4(10, 1, 0, 0), 16, ipv4(203, 0, 113, 1), err) ||
            !rt->add_route(ipv4(10, 1, 2, 0), 28, ipv4(192, 0, 2, 2), err) ||
            !rt->add_default(ipv4(198, 18, 0, 1), err)) {
            fprintf(stderr, "bench-route: %s\n", err.c_str());
            abort();
        }
    }
};

// Made on first use and destroyed in main() before rte_eal_cleanup(): its
// rte_lpm needs EAL alive to be freed (a function-local static was destroyed
// at exit, after EAL, and the run ended in SIGSEGV inside rte_lpm_free).
std::unique_ptr<setup> the_setup_ptr;

setup& the_setup()
{
    if (!the_setup_ptr) {
        the_setup_ptr = std::make_unique<setup>();
    }
    return *the_setup_ptr;
}

// Destinations: a quarter each on the connected /16, in 10/8, in 10.1/16 and
// anywhere (default route).
std::vector<rte_be32_t> destinations()
{
    std::mt19937 rng(7);
    std::vector<rte_be32_t> v(n_keys);
    for (std::size_t i = 0; i < n_keys; i++) {
        const uint32_t r = rng();
        switch (i & 3) {
        case 0: v[i] = be(ipv4(198, 18, 100, 0) | (r & 0x7fff)); break;
        case 1: v[i] = be(ipv4(10, 0, 0, 0) | (r & 0xffffff)); break;
        case 2: v[i] = be(ipv4(10, 1, 0, 0) | (r & 0xffff)); break;
        default: v[i] = be(ipv4(1 + r % 200, 0, 0, 0) | (r & 0xffffff)); break;
        }
    }
    return v;
}

// What a caller reads, field by field: DoNotOptimize on the whole 16-byte
// struct would time a store-forwarding stall instead of the lookup.
void consume(const route_result& r)
{
    benchmark::DoNotOptimize(r.status);
    benchmark::DoNotOptimize(r.src);
    benchmark::DoNotOptimize(r.next_hop);
    benchmark::DoNotOptimize(r.port);
}

// Destinations on one gateway route: the load generator's common case (all
// connections go through one gateway, the LPM entries stay cached).
void BM_RouteLookupOneRoute(benchmark::State& state)
{
    const route_table& rt = *the_setup().rt;
    std::vector<rte_be32_t> d(n_keys);
    for (std::size_t i = 0; i < n_keys; i++) {
        d[i] = be(ipv4(10, 9, 0, 0) + uint32_t(i % 64));
    }
    std::size_t i = 0;
    for (auto _ : state) {
        consume(rt.lookup(d[i++ & (n_keys - 1)]));
    }
}
BENCHMARK(BM_RouteLookupOneRoute);

void BM_RouteLookupPickSource(benchmark::State& state)
{
    const route_table& rt = *the_setup().rt;
    const auto d = destinations();
    std::size_t i = 0;
    for (auto _ : state) {
        consume(rt.lookup(d[i++ & (n_keys - 1)]));
    }
}
BENCHMARK(BM_RouteLookupPickSource);

// The load generator binds each connection to one of its source addresses.
void BM_RouteLookupBoundSource(benchmark::State& state)
{
    const route_table& rt = *the_setup().rt;
    const auto d = destinations();
    std::vector<rte_be32_t> s(n_keys);
    for (std::size_t i = 0; i < n_keys; i++) {
        s[i] = be(ipv4(198, 18, 0, 10) + uint32_t(i % 1014));
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t k = i++ & (n_keys - 1);
        consume(rt.lookup(d[k], s[k]));
    }
}
BENCHMARK(BM_RouteLookupBoundSource);

// Floor: rte_lpm_lookup alone on the same destinations.
void BM_RteLpmLookup(benchmark::State& state)
{
    rte_lpm_config cfg{};
    cfg.max_rules = 1024;
    cfg.number_tbl8s = 256;
    rte_lpm* lpm = rte_lpm_create("bench_lpm", SOCKET_ID_ANY, &cfg);
    if (lpm == nullptr) {
        state.SkipWithError("rte_lpm_create failed");
        return;
    }
    for (const route_info& r : the_setup().rt->routes()) {
        if (r.plen != 0) {
            rte_lpm_add(lpm, r.prefix, r.plen, 1);
        }
    }
    rte_lpm_add(lpm, ipv4(10, 1, 2, 0), 28, 2);
    const auto d = destinations();
    std::size_t i = 0;
    for (auto _ : state) {
        uint32_t nh = 0;
        benchmark::DoNotOptimize(rte_lpm_lookup(lpm, rte_be_to_cpu_32(d[i++ & (n_keys - 1)]), &nh));
        benchmark::DoNotOptimize(nh);
    }
    rte_lpm_free(lpm);
}
BENCHMARK(BM_RteLpmLookup);

// Received packets' destinations: mostly ours (across all ranges), some not.
std::vector<rte_be32_t> received()
{
    std::mt19937 rng(9);
    std::vector<rte_be32_t> v(n_keys);
    for (auto& a : v) {
        a = be(ipv4(198, 18, 0, 0) | (rng() & 0x0fff));
    }
    return v;
}

void BM_IsLocal(benchmark::State& state)
{
    const iface_addrs& a = the_setup().addrs;
    const auto v = received();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.is_local(v[i++ & (n_keys - 1)]));
    }
}
BENCHMARK(BM_IsLocal);

// Owner port of a bound address (bitmap + the block's single port).
void BM_PortOf(benchmark::State& state)
{
    const iface_addrs& a = the_setup().addrs;
    const auto v = received();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.port_of(v[i++ & (n_keys - 1)]));
    }
}
BENCHMARK(BM_PortOf);

// The alternative to the bitmap: binary search over the 8 sorted ranges.
void BM_RangeSearch(benchmark::State& state)
{
    const iface_addrs& a = the_setup().addrs;
    const auto v = received();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.find(rte_be_to_cpu_32(v[i++ & (n_keys - 1)])));
    }
}
BENCHMARK(BM_RangeSearch);

// Neighbour hit: arg = reachable entries looked up in turn (1 = the gateway).
void BM_NeighResolveHit(benchmark::State& state)
{
    neigh_config cfg;
    cfg.max_entries = 4096;
    std::string err;
    auto t = neigh_table::create(cfg, err);
    const uint32_t n = uint32_t(state.range(0));
    std::vector<rte_be32_t> ips(n);
    for (uint32_t k = 0; k < n; k++) {
        ips[k] = be(ipv4(198, 18, 64, 1) + k);
        t->resolve(ips[k], nullptr, 0);
        t->on_arp(ips[k], rte_ether_addr{{2, 0, 0, 0, uint8_t(k >> 8), uint8_t(k)}}, arp_kind::reply_to_us, 0,
                  [](void*, const rte_ether_addr&) {});
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const resolve_result r = t->resolve(ips[i++ & (n - 1)], nullptr, 1); // n: a power of two
        benchmark::DoNotOptimize(r.action);
        benchmark::DoNotOptimize(r.mac.addr_bytes[5]);
    }
    if (t->counters().hits != uint64_t(state.iterations())) {
        state.SkipWithError("not every resolve was a hit");
    }
}
BENCHMARK(BM_NeighResolveHit)->Arg(1)->Arg(4096);

} // namespace

int main(int argc, char** argv)
{
    // Run on the CPU taskset gave us: EAL pins the main lcore to its -l core.
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpu = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set)) {
            cpu++;
        }
    }
    const std::string lcore = std::to_string(cpu);
    const char* eal_args[] = {"bench-route", "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
                              "--log-level=error", "-l", lcore.c_str()};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        fprintf(stderr, "bench-route: rte_eal_init failed\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    the_setup_ptr.reset();
    rte_eal_cleanup();
    return 0;
}
