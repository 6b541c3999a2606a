// Smoke runs of the micro benchmarks: FG_BENCH_SMOKE=1 in the environment
// (the test suite's `bench-smoke` run, tests/bench/smoke.sh) shrinks the
// benchmarks whose set-up alone takes tens of seconds (10 M armed timers, 10 M
// table entries, 1024 destinations' port sets) to their smallest sizes, so
// every benchmark executable runs in about a second and none can rot unseen.
// Figures from a smoke run mean nothing; the code paths are the full run's.
// Read at static initialisation too (BENCHMARK(...)->Iterations(sized(...))):
// getenv() needs nothing else initialised.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace fg::bench {

inline bool smoke()
{
    static const bool on = [] {
        const char* e = std::getenv("FG_BENCH_SMOKE");
        return e != nullptr && *e != '\0' && *e != '0';
    }();
    return on;
}

// `full` in a real run, `small` in a smoke run.
template <class T>
inline T sized(T full, T small)
{
    return smoke() ? small : full;
}

} // namespace fg::bench
