// gtest main for unit-tcp-active: the engine works on real rte_mbufs and the
// route table on rte_lpm, so EAL starts once (--no-huge so it runs anywhere,
// --no-shconf so parallel test processes do not share state); one mbuf pool
// and one route table (read-only, as on the lcores) serve every test.
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "active_harness.hh"

namespace fg::tcp::atest {
rte_mempool* g_pool = nullptr;
route::route_table* g_routes = nullptr;
} // namespace fg::tcp::atest

int main(int argc, char** argv)
{
    using namespace fg;
    testing::InitGoogleTest(&argc, argv);
    const char* eal_args[] = {"unit-tcp-active", "--no-huge", "--no-shconf", "--no-pci", "-m",
                              "512",             "--log-level=error", "-l", "0"};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        std::fprintf(stderr, "unit-tcp-active: rte_eal_init failed\n");
        return 1;
    }
    tcp::atest::g_pool = rte_pktmbuf_pool_create("active_mbufs", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                 SOCKET_ID_ANY);
    if (tcp::atest::g_pool == nullptr) {
        std::fprintf(stderr, "unit-tcp-active: cannot create the mbuf pool\n");
        return 1;
    }
    auto addrs = std::make_unique<route::iface_addrs>();
    std::string err;
    route::addr_range r;
    if (!route::parse_addr("198.18.0.1-198.18.0.20/24", r, err) || !addrs->add(0, r, err)) {
        std::fprintf(stderr, "unit-tcp-active: %s\n", err.c_str());
        return 1;
    }
    std::unique_ptr<route::route_table> routes = route::route_table::create(*addrs, err);
    if (routes == nullptr ||
        !routes->add_route(ipv4(198, 19, 5, 0), 24, ipv4(198, 18, 0, 254), err, 1400)) {
        std::fprintf(stderr, "unit-tcp-active: routes: %s\n", err.c_str());
        return 1;
    }
    tcp::atest::g_routes = routes.get();
    const int rc = RUN_ALL_TESTS();
    routes.reset();
    addrs.reset();
    rte_mempool_free(tcp::atest::g_pool);
    rte_eal_cleanup();
    return rc;
}
