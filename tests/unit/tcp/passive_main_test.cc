// gtest main for unit-tcp-passive: the engine works on real rte_mbufs, so EAL
// starts once (--no-huge so it runs anywhere, --no-shconf so parallel test
// processes do not share state) and one mbuf pool serves every test.
#include <cstdio>

#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "passive_harness.hh"

namespace fg::tcp::test {
rte_mempool* g_pool = nullptr;
}

int main(int argc, char** argv)
{
    testing::InitGoogleTest(&argc, argv);
    const char* eal_args[] = {"unit-tcp", "--no-huge", "--no-shconf", "--no-pci", "-m",
                              "256",      "--log-level=error", "-l", "0"};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        std::fprintf(stderr, "unit-tcp-passive: rte_eal_init failed\n");
        return 1;
    }
    fg::tcp::test::g_pool = rte_pktmbuf_pool_create("passive_mbufs", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                    SOCKET_ID_ANY);
    if (fg::tcp::test::g_pool == nullptr) {
        std::fprintf(stderr, "unit-tcp-passive: cannot create the mbuf pool\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_mempool_free(fg::tcp::test::g_pool);
    rte_eal_cleanup();
    return rc;
}
