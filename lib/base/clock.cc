#include "base/clock.hh"

#include <atomic>
#include <ctime>

namespace fg {

uint64_t mono_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

uint64_t tsc_hz()
{
    static std::atomic<uint64_t> cached{0};
    uint64_t hz = cached.load(std::memory_order_relaxed);
    if (hz != 0) {
        return hz;
    }
    hz = rte_get_tsc_hz(); // 0 before rte_eal_init()
    if (hz == 0) {
        // Calibrate over 20 ms of CLOCK_MONOTONIC.
        const uint64_t n0 = mono_ns();
        const uint64_t t0 = rte_rdtsc();
        uint64_t n1;
        do {
            n1 = mono_ns();
        } while (n1 - n0 < 20000000ull);
        const uint64_t t1 = rte_rdtsc();
        hz = (t1 - t0) * 1000000000ull / (n1 - n0);
    }
    cached.store(hz, std::memory_order_relaxed);
    return hz;
}

} // namespace fg
