// gtest main for eal-core: Floodgate stacks on ring ports, their polling
// loops on real EAL lcores. EAL can be initialised once per process, so it
// starts here, before any test.
//
// Lcores: the tests run several polling loops at once (two stacks, or one
// stack with two lcores), each on its own EAL worker lcore launched with
// rte_eal_remote_launch, the way the apps run them (apps/common/runtime.cc).
// These machines have two CPUs, so instead of `-l 0` the lcore ids 0..4 are
// mapped onto every CPU this process may use (`--lcores=(0-4)@(cpus)`): each
// lcore is its own thread, the scheduler shares the CPUs between the spinning
// loops. The main lcore (0) only drives the tests and sleeps while it waits.
#include <sched.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eal.hh"

namespace {

// "0-1" style list of the CPUs this process may run on.
std::string allowed_cpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return "0";
    }
    std::string out;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            out += (out.empty() ? "" : ",") + std::to_string(c);
        }
    }
    return out.empty() ? "0" : out;
}

} // namespace

int main(int argc, char** argv)
{
    testing::InitGoogleTest(&argc, argv);
    const std::string lcores = "--lcores=(0-4)@(" + allowed_cpus() + ")";
    std::vector<std::string> a = {"eal-core", lcores, "--no-huge", "--no-shconf", "--no-pci", "-m", "1024",
                                  "--log-level=lib.eal:error"};
    std::vector<char*> args;
    for (auto& s : a) {
        args.push_back(s.data());
    }
    args.push_back(nullptr);
    const fg::glue::eal_result r = fg::glue::eal_start(int(a.size()), args.data());
    if (!r.ok) {
        std::fprintf(stderr, "eal-core: %s\n", r.error.c_str());
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    fg::glue::eal_stop();
    return rc;
}
