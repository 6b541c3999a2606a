// Time on the hot path is the TSC. tsc_hz() is EAL's figure when EAL is up and
// a one-off calibration against CLOCK_MONOTONIC otherwise (unit tests run
// without EAL). Timers work in whole milliseconds since the lcore started
// (ms_clock), which is all TCP's handshake and TIME_WAIT timers need.
#pragma once

#include <cstdint>

#include <rte_cycles.h>

namespace fg {

uint64_t tsc_hz();

inline uint64_t now_tsc() { return rte_rdtsc(); }

// Wall-clock nanoseconds (CLOCK_MONOTONIC) for the ISN clock and reports.
uint64_t mono_ns();

struct ms_clock {
    uint64_t base_tsc = 0;
    uint64_t tsc_per_ms = 1;

    void start()
    {
        base_tsc = now_tsc();
        tsc_per_ms = tsc_hz() / 1000;
        if (tsc_per_ms == 0) {
            tsc_per_ms = 1;
        }
    }
    uint32_t ms(uint64_t tsc) const { return uint32_t((tsc - base_tsc) / tsc_per_ms); }
    uint32_t now_ms() const { return ms(now_tsc()); }
};

} // namespace fg
