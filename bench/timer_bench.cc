// Timer wheel: arm, re-arm, cancel and expiry with 10M timers armed, links
// embedded in 64-byte connection blocks (640 MB pool), as the tcp layer uses
// them. Against DPDK's own rte_timer (skiplist, 120 B per timer, atomics) at
// 1M armed, which is what the wheel replaces.
// Run: taskset -c 1 build/bench/bench-timer
#include <benchmark/benchmark.h>

#include <sched.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_timer.h>

#include "base/mem.hh"
#include "smoke.hh"
#include "timer/wheel.hh"

namespace {

using fg::timer::link;
using fg::timer::wheel;

struct conn {
    uint64_t payload[6];
    link tl;
    uint32_t more;
};
static_assert(sizeof(conn) == 64);

// (FG_BENCH_SMOKE=1: a hundredth of each, see smoke.hh)
const uint32_t n_armed = fg::bench::sized(10'000'000u, 100'000u); // the load the brief asks for
const uint32_t n_spare = fg::bench::sized(2'000'000u, 20'000u);   // unarmed objects for BM_TimerArm
const uint32_t n_ops = fg::bench::sized(2'000'000u, 20'000u);     // timed operations per benchmark
constexpr uint32_t span_ms = 60'000;         // expiries spread over 60 s (TIME_WAIT-like)

// One pool for every benchmark; each benchmark zeroes and re-arms it.
struct bed {
    fg::huge_region mem;
    conn* pool = nullptr;
    wheel w;
    std::vector<uint32_t> idx;  // random object indices
    std::vector<uint32_t> when; // random expiries

    bed()
    {
        // Not populated: alloc_huge advises THP after mapping, so the first memset
        // faults the pool in as 2 MB pages (populating first would get 4 KB ones).
        mem = fg::alloc_huge(std::size_t(n_armed + n_spare) * sizeof(conn), false);
        pool = static_cast<conn*>(mem.ptr);
        std::mt19937 rng(42);
        when.resize(n_armed + n_ops);
        for (auto& e : when) {
            e = 1 + rng() % span_ms;
        }
    }
    // n timers armed at random times in [1, span_ms], clock at 0.
    void reset(uint32_t n)
    {
        std::memset(pool, 0, std::size_t(n_armed + n_spare) * sizeof(conn));
        w.init(pool, sizeof(conn), offsetof(conn, tl), n_armed + n_spare, 0);
        for (uint32_t i = 0; i < n; i++) {
            w.arm(i, when[i]);
        }
    }
    // n random indices below `below` (a permutation prefix when unique).
    void pick(uint32_t n, uint32_t below, uint32_t offset, bool unique)
    {
        std::mt19937 rng(7);
        idx.resize(n);
        if (unique) {
            std::vector<uint32_t> all(below);
            for (uint32_t i = 0; i < below; i++) {
                all[i] = offset + i;
            }
            for (uint32_t i = 0; i < n; i++) {
                std::swap(all[i], all[i + rng() % (below - i)]);
                idx[i] = all[i];
            }
        } else {
            for (auto& v : idx) {
                v = offset + rng() % below;
            }
        }
    }
};

bed& the_bed()
{
    static bed b;
    return b;
}

// Arm an unarmed timer (a new connection) with 10M armed.
void BM_TimerArm(benchmark::State& state)
{
    bed& b = the_bed();
    b.reset(n_armed);
    b.pick(n_ops, n_spare, n_armed, true);
    uint32_t k = 0;
    for (auto _ : state) {
        b.w.arm(b.idx[k], b.when[n_armed + k]);
        k++;
    }
    state.counters["armed"] = double(b.w.armed_count());
}
BENCHMARK(BM_TimerArm)->Iterations(n_ops)->Unit(benchmark::kNanosecond);

// Re-arm an armed timer (retransmit backoff): unlink and insert.
void BM_TimerRearm(benchmark::State& state)
{
    bed& b = the_bed();
    b.reset(n_armed);
    b.pick(n_ops, n_armed, 0, false);
    uint32_t k = 0;
    for (auto _ : state) {
        b.w.arm(b.idx[k], b.when[n_armed + k]);
        k++;
    }
}
BENCHMARK(BM_TimerRearm)->Iterations(n_ops)->Unit(benchmark::kNanosecond);

// Cancel an armed timer (handshake completed) with 10M armed.
void BM_TimerCancel(benchmark::State& state)
{
    bed& b = the_bed();
    b.reset(n_armed);
    b.pick(n_ops, n_armed, 0, true);
    uint32_t k = 0;
    for (auto _ : state) {
        b.w.cancel(b.idx[k++]);
    }
    state.counters["armed"] = double(b.w.armed_count());
}
BENCHMARK(BM_TimerCancel)->Iterations(n_ops)->Unit(benchmark::kNanosecond);

// Expiry: 10M armed over 60 s, advance 1 ms per iteration until all fired.
// ns_per_expiry is the figure; the per-iteration time is per millisecond tick.
void BM_TimerExpire(benchmark::State& state)
{
    bed& b = the_bed();
    b.reset(n_armed);
    uint32_t now = 0;
    uint64_t fired = 0;
    uint64_t sum = 0;
    for (auto _ : state) {
        fired += b.w.advance(++now, [&](uint32_t i) { sum += i; });
    }
    benchmark::DoNotOptimize(sum);
    state.counters["fired"] = double(fired);
    state.counters["ns_per_expiry"] =
        benchmark::Counter(double(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_TimerExpire)->Iterations(span_ms)->Unit(benchmark::kMicrosecond);

// Steady TIME_WAIT churn: every expiry re-arms 60 s later (10M stay armed).
void BM_TimerExpireRearm(benchmark::State& state)
{
    bed& b = the_bed();
    b.reset(n_armed);
    uint32_t now = 0;
    uint64_t fired = 0;
    for (auto _ : state) {
        ++now;
        fired += b.w.advance(now, [&](uint32_t i) { b.w.arm(i, now + span_ms); });
    }
    state.counters["ns_per_expiry"] =
        benchmark::Counter(double(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_TimerExpireRearm)->Iterations(span_ms)->Unit(benchmark::kMicrosecond);

// A 10 s clock jump over an empty wheel, and over one holding 1000 timers
// more than a revolution away: the occupancy bitmap skips the empty slots.
void BM_TimerJump10s(benchmark::State& state)
{
    std::vector<link> links(1000);
    wheel w;
    w.init(links.data(), 1000, 0);
    for (uint32_t i = 0; i < uint32_t(state.range(0)); i++) {
        w.arm(i, 2'000'000'000u + i * 97);
    }
    uint32_t now = 0;
    for (auto _ : state) {
        now += 10'000;
        if (now > 1'900'000'000u) {
            state.SkipWithError("clock ran into the far timers");
            break;
        }
        benchmark::DoNotOptimize(w.advance(now, [](uint32_t) {}));
    }
}
BENCHMARK(BM_TimerJump10s)->Arg(0)->Arg(1000)->Iterations(100000)->Unit(benchmark::kNanosecond);

// ---- rte_timer, for comparison (needs EAL: --no-huge, this CPU as lcore).

bool eal_up()
{
    static int rc = [] {
        std::string lcore = std::to_string(sched_getcpu());
        const char* argv[] = {"bench-timer", "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
                              "-l", lcore.c_str(), "--log-level=error"};
        int r = rte_eal_init(int(std::size(argv)), const_cast<char**>(argv));
        if (r >= 0) {
            r = rte_timer_subsystem_init();
        }
        return r;
    }();
    return rc >= 0;
}

const uint32_t n_rte = fg::bench::sized(1'000'000u, 10'000u); // rte_timer is 120 B each: 1M, not 10M

void rte_noop(rte_timer*, void*) {}

struct rte_bed {
    std::vector<rte_timer> t;
    std::vector<uint64_t> ticks;
    rte_bed() : t(n_rte + n_ops), ticks(n_rte + n_ops)
    {
        std::mt19937 rng(42);
        const uint64_t per_ms = rte_get_tsc_hz() / 1000;
        for (auto& v : ticks) {
            v = (1 + rng() % span_ms) * per_ms;
        }
    }
    void reset(uint32_t n)
    {
        for (auto& x : t) {
            rte_timer_stop_sync(&x);
            rte_timer_init(&x);
        }
        for (uint32_t i = 0; i < n; i++) {
            rte_timer_reset(&t[i], ticks[i], SINGLE, rte_lcore_id(), rte_noop, nullptr);
        }
    }
};

void BM_RteTimerArm(benchmark::State& state)
{
    if (!eal_up()) {
        state.SkipWithError("rte_eal_init failed");
        return;
    }
    rte_bed b;
    b.reset(n_rte);
    uint32_t k = 0;
    for (auto _ : state) {
        rte_timer_reset(&b.t[n_rte + k], b.ticks[n_rte + k], SINGLE, rte_lcore_id(), rte_noop, nullptr);
        k++;
    }
    b.reset(0);
}
BENCHMARK(BM_RteTimerArm)->Iterations(n_ops)->Unit(benchmark::kNanosecond);

void BM_RteTimerCancel(benchmark::State& state)
{
    if (!eal_up()) {
        state.SkipWithError("rte_eal_init failed");
        return;
    }
    rte_bed b;
    b.reset(n_rte);
    std::mt19937 rng(7);
    std::vector<uint32_t> order(n_rte);
    for (uint32_t i = 0; i < n_rte; i++) {
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), rng);
    uint32_t k = 0;
    for (auto _ : state) {
        rte_timer_stop(&b.t[order[k++]]);
    }
    b.reset(0);
}
BENCHMARK(BM_RteTimerCancel)->Iterations(n_rte / 2)->Unit(benchmark::kNanosecond);

// 1M timers armed 0..1 ms ahead, then rte_timer_manage() fires them all.
void BM_RteTimerExpire(benchmark::State& state)
{
    if (!eal_up()) {
        state.SkipWithError("rte_eal_init failed");
        return;
    }
    rte_bed b;
    std::mt19937 rng(9);
    const uint64_t per_ms = rte_get_tsc_hz() / 1000;
    uint64_t fired = 0;
    for (auto _ : state) {
        state.PauseTiming();
        b.reset(0);
        for (uint32_t i = 0; i < n_rte; i++) {
            rte_timer_reset(&b.t[i], rng() % per_ms, SINGLE, rte_lcore_id(), rte_noop, nullptr);
        }
        rte_delay_ms(2);
        state.ResumeTiming();
        rte_timer_manage();
        fired += n_rte;
    }
    state.counters["ns_per_expiry"] =
        benchmark::Counter(double(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RteTimerExpire)->Iterations(3)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
