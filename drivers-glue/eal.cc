#include "eal.hh"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <pthread.h>
#include <sched.h>

#include <rte_eal.h>
#include <rte_errno.h>

namespace fg::glue {

unsigned free_hugepages_2m()
{
    std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
    unsigned n = 0;
    if (f >> n) {
        return n;
    }
    return 0;
}

namespace {
cpu_set_t g_startup_cpus;
bool g_have_startup_cpus = false;

bool has_arg(const std::vector<std::string>& a, const char* name)
{
    for (const auto& s : a) {
        if (s == name || s.rfind(std::string(name) + "=", 0) == 0) {
            return true;
        }
    }
    return false;
}
} // namespace

eal_result eal_start(int argc, char** argv, unsigned default_mem_mb, bool ordinary_pages)
{
    eal_result r;
    int eal_argc = argc;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--") == 0) {
            eal_argc = i;
            break;
        }
    }
    // EAL may keep pointers into its argv: the strings live for the process.
    static std::vector<std::string> a;
    a.assign(argv, argv + eal_argc);
    const bool no_huge = has_arg(a, "--no-huge");
    const bool in_mem = has_arg(a, "--in-memory");
    const bool mem_given = has_arg(a, "-m") || has_arg(a, "--socket-mem");
    if (no_huge && in_mem) {
        r.error = "EAL: --no-huge and --in-memory cannot be combined in DPDK 22.11; use --no-huge --no-shconf";
        return r;
    }
    // FG_NO_HUGE=1: ordinary pages even when hugepages are free (what a
    // machine with none reserved runs; tests use it to take that path).
    const char* env = std::getenv("FG_NO_HUGE");
    const bool avoid_huge = ordinary_pages || (env != nullptr && std::strcmp(env, "1") == 0);
    if (!no_huge && !in_mem && !has_arg(a, "--huge-dir")) {
        // Use hugepages only if there are enough for the memory the app needs
        // (mbuf pools); otherwise run on ordinary pages.
        if (!avoid_huge && free_hugepages_2m() >= default_mem_mb / 2) {
            a.emplace_back("--in-memory");
            r.hugepages = true;
        } else {
            a.emplace_back("--no-huge");
            a.emplace_back("--no-shconf");
            if (!mem_given) {
                a.emplace_back("-m");
                a.emplace_back(std::to_string(default_mem_mb));
            }
        }
    } else if (no_huge) {
        if (!has_arg(a, "--no-shconf")) {
            a.emplace_back("--no-shconf");
        }
        if (!mem_given) {
            a.emplace_back("-m");
            a.emplace_back(std::to_string(default_mem_mb));
        }
    } else {
        r.hugepages = true;
    }
    if (!g_have_startup_cpus) {
        g_have_startup_cpus = sched_getaffinity(0, sizeof(g_startup_cpus), &g_startup_cpus) == 0;
    }
    std::vector<char*> cargs;
    for (auto& s : a) {
        cargs.push_back(s.data());
    }
    cargs.push_back(nullptr);
    const int n = rte_eal_init(int(cargs.size() - 1), cargs.data());
    if (n < 0) {
        r.error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
        return r;
    }
    r.ok = true;
    r.consumed = eal_argc;
    r.args = a;
    return r;
}

void eal_stop() { rte_eal_cleanup(); }

void unpin_this_thread()
{
    if (g_have_startup_cpus) {
        pthread_setaffinity_np(pthread_self(), sizeof(g_startup_cpus), &g_startup_cpus);
    }
}

} // namespace fg::glue
