// Established-table benchmark, three implementations side by side in one run:
//   ours       fg::table::conn_table (owner-lcore lookups: no seqlock)
//   ours_conc  the same table through lookup_concurrent() (any thread)
//   rte_hash   DPDK rte_hash, RW_CONCURRENCY_LF (lock-free readers), CRC hash,
//              12-byte keys, value in the data pointer
//   rte_hash_k16  the same with the key zero-padded to 16 bytes, so rte_hash
//              uses its SSE 16-byte compare instead of memcmp (no churn run)
//   tbb        tbb::concurrent_hash_map<tuple4, uint32_t> with the same CRC
//   ours_4k    our table on 4 KB pages, as the other two get here (see below)
// Operations: single lookup hit, single lookup miss, 32-key batch lookup
// (our lookup_burst vs rte_hash_lookup_bulk_data; tbb is 32 finds), and
// insert+erase churn (one fresh key in, one present key out per iteration),
// at 1K, 1M and 10M entries: random keys, random access order. Each table is
// built once per process, the first time a benchmark of its size runs.
// Counters: ns_op = nanoseconds per key (per insert+erase pair for churn),
// B_entry = table bytes per entry (ours: mapped bytes / entries; rte_hash:
// rte_malloc heap growth; tbb: bytes requested from its allocator).
//
// Pages: EAL runs with --no-huge, so rte_hash lives on 4 KB pages (EAL's
// memory is a shmem memfd, which this kernel does not back with THP), and
// tbb's nodes come from malloc (4 KB). Our table asks for hugepages and gets
// transparent ones; ours_4k is the same table with THP disabled while it is
// built, for the like-for-like comparison.
//
// rte_hash is created with entries = N / 0.9 (the same headroom our table
// gets from max_load), as it cannot be relied on to take N keys into N slots.
//
// Run: taskset -c 1 build/bench/bench-table [--benchmark_filter=10M]
// (FG_BENCH_SMOKE=1, the test suite's smoke run: 1K only.)
#include <benchmark/benchmark.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <tbb/concurrent_hash_map.h>

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "smoke.hh"
#include "table/conn_table.hh"

namespace {

using fg::tuple4;
using fg::table::conn_table;

constexpr uint32_t batch = 32;

uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Random non-zero tuple number i of stream s (distinct streams do not share keys
// but for a ~2^-96 chance).
tuple4 key_of(uint64_t s, uint64_t i)
{
    const uint64_t a = splitmix(s * 0x100000000ull + i);
    const uint64_t b = splitmix(a);
    return tuple4{uint32_t(a) | 1u, uint32_t(a >> 32), uint16_t(b), uint16_t(b >> 16)};
}

constexpr uint64_t stream_present = 1;
constexpr uint64_t stream_absent = 2;
constexpr uint64_t stream_churn = 3;

struct dataset {
    uint32_t n = 0;
    std::vector<tuple4> keys;   // insertion order; value of keys[i] is i
    std::vector<tuple4> order;  // the same keys, shuffled: lookup order
    std::vector<tuple4> absent; // never inserted
};

dataset* data_for(uint32_t n)
{
    static std::unique_ptr<dataset> sets[3];
    const int i = n <= 1000 ? 0 : n <= 1000000 ? 1 : 2;
    if (!sets[i]) {
        auto d = std::make_unique<dataset>();
        d->n = n;
        d->keys.resize(n);
        for (uint32_t k = 0; k < n; k++) {
            d->keys[k] = key_of(stream_present, k);
        }
        d->order = d->keys;
        std::shuffle(d->order.begin(), d->order.end(), std::mt19937_64(n));
        d->absent.resize(std::min<uint32_t>(n, 1u << 20));
        for (uint32_t k = 0; k < d->absent.size(); k++) {
            d->absent[k] = key_of(stream_absent, k);
        }
        sets[i] = std::move(d);
    }
    return sets[i].get();
}

// ---- implementations -----------------------------------------------------

struct ours {
    conn_table t;
    explicit ours(const dataset& d, bool small_pages = false)
    {
        // small_pages: build the table with transparent hugepages disabled
        // for the process, i.e. on 4 KB pages like rte_hash's memory under
        // --no-huge (EAL's memfd is shmem, which this kernel never backs with
        // THP) and tbb's malloc'ed nodes.
        prctl(PR_SET_THP_DISABLE, small_pages ? 1 : 0, 0, 0, 0);
        const bool ok = t.init(d.n);
        prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
        if (!ok) {
            std::abort();
        }
        for (uint32_t i = 0; i < d.n; i++) {
            if (t.insert(d.keys[i], i) != 0) {
                std::abort();
            }
        }
    }
    uint32_t lookup(const tuple4& k) const { return t.lookup(k); }
    void lookup_batch(const tuple4* k, uint32_t* v) const { t.lookup_burst(k, batch, v); }
    bool insert(const tuple4& k, uint32_t v) { return t.insert(k, v) == 0; }
    bool erase(const tuple4& k) { return t.erase(k); }
    double bytes() const { return double(t.memory_bytes()); }
};

struct ours_4k : ours {
    explicit ours_4k(const dataset& d) : ours(d, true) {}
};

struct ours_conc : ours {
    using ours::ours;
    uint32_t lookup(const tuple4& k) const { return t.lookup_concurrent(k); }
};

std::size_t rte_heap_bytes()
{
    rte_malloc_socket_stats s{};
    rte_malloc_get_socket_stats(int(rte_socket_id()), &s);
    return s.heap_allocsz_bytes;
}

// KeyLen 12: the tuple as is (rte_hash compares it with memcmp). KeyLen 16:
// the tuple zero-padded to 16 bytes, which rte_hash compares with its SSE
// 16-byte routine; the padding is done per lookup, inside the timed loop.
template <uint32_t KeyLen>
struct dpdk_hash {
    static_assert(KeyLen == 12 || KeyLen == 16);
    struct key {
        tuple4 t;
        uint32_t pad;
    };
    static key pad(const tuple4& t) { return key{t, 0}; }
    rte_hash* h = nullptr;
    double mem = 0;
    explicit dpdk_hash(const dataset& d)
    {
        const std::size_t before = rte_heap_bytes();
        const std::string name = "bench" + std::to_string(KeyLen) + "_" + std::to_string(d.n);
        rte_hash_parameters p{};
        p.name = name.c_str();
        p.entries = uint32_t(double(d.n) / conn_table::max_load) + 1;
        p.key_len = KeyLen;
        p.hash_func = rte_hash_crc;
        p.hash_func_init_val = 0;
        p.socket_id = int(rte_socket_id());
        p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
        h = rte_hash_create(&p);
        if (h == nullptr) {
            std::fprintf(stderr, "rte_hash_create(%u): %s\n", p.entries, rte_strerror(rte_errno));
            std::abort();
        }
        for (uint32_t i = 0; i < d.n; i++) {
            if (!insert(d.keys[i], i)) {
                std::abort();
            }
        }
        mem = double(rte_heap_bytes() - before);
    }
    uint32_t lookup(const tuple4& k) const
    {
        void* v;
        const key pk = pad(k);
        return rte_hash_lookup_data(h, KeyLen == 16 ? static_cast<const void*>(&pk) : &k, &v) >= 0
                   ? uint32_t(uintptr_t(v))
                   : conn_table::none;
    }
    void lookup_batch(const tuple4* k, uint32_t* out) const
    {
        const void* kp[batch];
        key padded[KeyLen == 16 ? batch : 1];
        void* v[batch];
        uint64_t hits = 0;
        for (uint32_t i = 0; i < batch; i++) {
            if constexpr (KeyLen == 16) {
                padded[i] = pad(k[i]);
                kp[i] = &padded[i];
            } else {
                kp[i] = &k[i];
            }
        }
        rte_hash_lookup_bulk_data(h, kp, batch, &hits, v);
        for (uint32_t i = 0; i < batch; i++) {
            out[i] = (hits >> i) & 1 ? uint32_t(uintptr_t(v[i])) : conn_table::none;
        }
    }
    bool insert(const tuple4& k, uint32_t v)
    {
        const key pk = pad(k);
        return rte_hash_add_key_data(h, KeyLen == 16 ? static_cast<const void*>(&pk) : &k,
                                     reinterpret_cast<void*>(uintptr_t(v))) == 0;
    }
    bool erase(const tuple4& k)
    {
        const key pk = pad(k);
        const int32_t pos = rte_hash_del_key(h, KeyLen == 16 ? static_cast<const void*>(&pk) : &k);
        if (pos < 0) {
            return false;
        }
        // RW_CONCURRENCY_LF implies NO_FREE_ON_DEL: the key slot comes back
        // only through this call (after readers are done; here, at once).
        rte_hash_free_key_with_position(h, pos);
        return true;
    }
    double bytes() const { return mem; }
};

std::atomic<std::size_t> g_tbb_bytes{0};

template <class T>
struct counting_alloc {
    using value_type = T;
    counting_alloc() = default;
    template <class U>
    counting_alloc(const counting_alloc<U>&) noexcept
    {
    }
    T* allocate(std::size_t n)
    {
        g_tbb_bytes += n * sizeof(T);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n)
    {
        g_tbb_bytes -= n * sizeof(T);
        std::allocator<T>().deallocate(p, n);
    }
    template <class U>
    bool operator==(const counting_alloc<U>&) const noexcept
    {
        return true;
    }
    template <class U>
    bool operator!=(const counting_alloc<U>&) const noexcept
    {
        return false;
    }
};

struct tuple_hash_compare {
    static std::size_t hash(const tuple4& k) { return conn_table::hash(k); }
    static bool equal(const tuple4& a, const tuple4& b) { return a == b; }
};

struct tbb_map {
    using map = tbb::concurrent_hash_map<tuple4, uint32_t, tuple_hash_compare,
                                         counting_alloc<std::pair<const tuple4, uint32_t>>>;
    std::unique_ptr<map> m;
    double mem = 0;
    explicit tbb_map(const dataset& d)
    {
        const std::size_t before = g_tbb_bytes.load();
        m = std::make_unique<map>(d.n);
        for (uint32_t i = 0; i < d.n; i++) {
            m->insert(std::make_pair(d.keys[i], i));
        }
        mem = double(g_tbb_bytes.load() - before);
    }
    uint32_t lookup(const tuple4& k) const
    {
        map::const_accessor a;
        return m->find(a, k) ? a->second : conn_table::none;
    }
    void lookup_batch(const tuple4* k, uint32_t* out) const
    {
        for (uint32_t i = 0; i < batch; i++) {
            out[i] = lookup(k[i]);
        }
    }
    bool insert(const tuple4& k, uint32_t v) { return m->insert(std::make_pair(k, v)); }
    bool erase(const tuple4& k) { return m->erase(k); }
    double bytes() const { return mem; }
};

template <class Impl>
Impl* table_for(uint32_t n)
{
    static std::unique_ptr<Impl> tables[3];
    const int i = n <= 1000 ? 0 : n <= 1000000 ? 1 : 2;
    if (!tables[i]) {
        tables[i] = std::make_unique<Impl>(*data_for(n));
    }
    return tables[i].get();
}

// ours and ours_conc share one table.
template <>
ours_conc* table_for<ours_conc>(uint32_t n)
{
    return static_cast<ours_conc*>(table_for<ours>(n));
}

void set_counters(benchmark::State& state, uint64_t ops, double bytes, uint32_t n)
{
    state.SetItemsProcessed(int64_t(ops));
    state.counters["ns_op"] = benchmark::Counter(double(ops) * 1e-9, benchmark::Counter::kIsRate |
                                                                         benchmark::Counter::kInvert);
    state.counters["B_entry"] = bytes / n;
}

// ---- benchmarks ----------------------------------------------------------

template <class Impl>
void BM_TableLookupHit(benchmark::State& state)
{
    const uint32_t n = uint32_t(state.range(0));
    const dataset& d = *data_for(n);
    const Impl& t = *table_for<Impl>(n);
    uint32_t i = 0;
    uint64_t bad = 0;
    for (auto _ : state) {
        const uint32_t v = t.lookup(d.order[i]);
        bad += v == conn_table::none;
        benchmark::DoNotOptimize(v);
        i = i + 1 == n ? 0 : i + 1;
    }
    if (bad != 0) {
        state.SkipWithError("a present key was not found");
    }
    set_counters(state, state.iterations(), t.bytes(), n);
}

template <class Impl>
void BM_TableLookupMiss(benchmark::State& state)
{
    const uint32_t n = uint32_t(state.range(0));
    const dataset& d = *data_for(n);
    const Impl& t = *table_for<Impl>(n);
    const uint32_t m = uint32_t(d.absent.size());
    uint32_t i = 0;
    uint64_t bad = 0;
    for (auto _ : state) {
        const uint32_t v = t.lookup(d.absent[i]);
        bad += v != conn_table::none;
        benchmark::DoNotOptimize(v);
        i = i + 1 == m ? 0 : i + 1;
    }
    if (bad != 0) {
        state.SkipWithError("an absent key was found");
    }
    set_counters(state, state.iterations(), t.bytes(), n);
}

template <class Impl>
void BM_TableBatch32(benchmark::State& state)
{
    const uint32_t n = uint32_t(state.range(0));
    const dataset& d = *data_for(n);
    const Impl& t = *table_for<Impl>(n);
    const uint32_t rounds = n / batch; // whole batches only
    uint32_t r = 0;
    uint64_t bad = 0;
    uint32_t v[batch];
    for (auto _ : state) {
        t.lookup_batch(&d.order[std::size_t(r) * batch], v);
        bad += v[0] == conn_table::none;
        benchmark::DoNotOptimize(v);
        r = r + 1 == rounds ? 0 : r + 1;
    }
    if (bad != 0) {
        state.SkipWithError("a present key was not found");
    }
    set_counters(state, state.iterations() * batch, t.bytes(), n);
}

// Iteration j inserts fresh key F(j) and erases the oldest key still in:
// present key order[j] for j < n, then F(j - n). Afterwards the table is put
// back to exactly the original keys (outside the timed loop).
template <class Impl>
void BM_TableChurn(benchmark::State& state)
{
    const uint32_t n = uint32_t(state.range(0));
    const dataset& d = *data_for(n);
    Impl& t = *table_for<Impl>(n);
    static uint64_t churn_base = 0; // fresh keys never repeat across calls
    const uint64_t base = churn_base;
    uint64_t j = 0;
    uint64_t failed = 0;
    for (auto _ : state) {
        failed += !t.insert(key_of(stream_churn, base + j), uint32_t(n + (j & 0xFFFFFF)));
        const tuple4 old = j < n ? d.order[j] : key_of(stream_churn, base + j - n);
        failed += !t.erase(old);
        j++;
    }
    churn_base += j;
    for (uint64_t k = j > n ? j - n : 0; k < j; k++) {
        t.erase(key_of(stream_churn, base + k));
    }
    for (uint64_t k = 0; k < std::min<uint64_t>(j, n); k++) {
        t.insert(d.order[k], 0); // values no longer match keys[] indices: no benchmark relies on them
    }
    if (failed != 0) {
        state.SkipWithError("churn insert or erase failed");
    }
    set_counters(state, state.iterations(), t.bytes(), n);
}

constexpr int64_t sizes[] = {1000, 1000000, 10000000};

const char* size_name(int64_t n) { return n == 1000 ? "1K" : n == 1000000 ? "1M" : "10M"; }

template <class Impl>
void register_all(const char* impl, int64_t n, bool with_batch = true)
{
    const std::string s = std::string("/") + impl + "/" + size_name(n);
    const double min_time = n >= 10000000 ? 0.2 : 0.1; // keeps the whole run near 1 minute on an idle core
    benchmark::RegisterBenchmark(("BM_TableLookupHit" + s).c_str(), BM_TableLookupHit<Impl>)->Arg(n)->MinTime(min_time);
    benchmark::RegisterBenchmark(("BM_TableLookupMiss" + s).c_str(), BM_TableLookupMiss<Impl>)->Arg(n)->MinTime(min_time);
    if (with_batch) {
        benchmark::RegisterBenchmark(("BM_TableBatch32" + s).c_str(), BM_TableBatch32<Impl>)->Arg(n)->MinTime(min_time);
    }
}

template <class Impl>
void register_churn(const char* impl, int64_t n)
{
    const std::string s = std::string("/") + impl + "/" + size_name(n);
    benchmark::RegisterBenchmark(("BM_TableChurn" + s).c_str(), BM_TableChurn<Impl>)->Arg(n)->MinTime(n >= 10000000 ? 0.2 : 0.1);
}

} // namespace

int main(int argc, char** argv)
{
    const char* eal_args[] = {"bench", "--no-huge", "--no-shconf", "--no-pci", "-m", "4096", "--log-level=error"};
    if (rte_eal_init(int(std::size(eal_args)), const_cast<char**>(eal_args)) < 0) {
        std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    for (int64_t n : sizes) {
        if (fg::bench::smoke() && n != sizes[0]) {
            continue; // smoke.hh: the smallest size only
        }
        register_all<ours>("ours", n);
        register_all<ours_conc>("ours_conc", n, false); // its batch is ours' lookup_burst
        register_all<ours_4k>("ours_4k", n);
        register_all<dpdk_hash<12>>("rte_hash", n);
        register_all<dpdk_hash<16>>("rte_hash_k16", n);
        register_all<tbb_map>("tbb", n);
        // Churn last for each size: it changes which keys the tables hold
        // while it runs (and restores them after).
        register_churn<ours>("ours", n);
        register_churn<ours_4k>("ours_4k", n);
        register_churn<dpdk_hash<12>>("rte_hash", n);
        register_churn<tbb_map>("tbb", n);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_eal_cleanup();
    return 0;
}
