// EAL start-up with the DPDK convention `app [EAL options] -- [app options]`.
//
// eal_start() adds what a user would otherwise have to know about this
// machine: with free 2 MB hugepages and no memory option given it adds
// --in-memory (no files left in /dev/hugepages, several processes side by
// side); without hugepages it adds --no-huge --no-shconf and a memory size
// (DPDK 22.11 refuses --no-huge together with --in-memory); FG_NO_HUGE=1 in
// the environment takes that path even when hugepages are free. Errors come back
// as a message, never as a crash.
#pragma once

#include <string>
#include <vector>

namespace fg::glue {

struct eal_result {
    int consumed = 0;             // argv entries EAL consumed (including argv[0]); app args follow
    bool ok = false;
    bool hugepages = false;       // running on hugepage memory
    std::string error;            // set when !ok
    std::vector<std::string> args; // the EAL arguments actually used
};

// Starts EAL with argv up to (not including) "--". `default_mem_mb` is used
// with --no-huge when the user gave no -m / --socket-mem. `ordinary_pages`:
// no hugepages even when enough are free (as FG_NO_HUGE=1), unless the
// arguments ask for them (--in-memory, --huge-dir).
eal_result eal_start(int argc, char** argv, unsigned default_mem_mb = 1024, bool ordinary_pages = false);

// Number of free 2 MB hugepages on this machine (0 if none or unknown).
unsigned free_hugepages_2m();

void eal_stop();

// Lets the calling thread run on every CPU the process could use before EAL
// pinned its threads: control threads (stats, capture writer, application
// threads) created by the main lcore's thread would otherwise share its CPU
// with its polling loop.
void unpin_this_thread();

} // namespace fg::glue
