// The load generator through whole stacks: a client stack (lib/gen) and a
// responder stack (SYN cookies, accepted on the lcore) on a ring pair, both
// loops stepped by the test thread (core::stack::step), so every run is the
// same sequence of events on this loaded machine:
//  * no SYN is lost at start-up while ARP resolves (the generator holds back
//    what the neighbour queue cannot take, instead of dropping SYNs that
//    then stall the concurrency window for the 1 s retransmission timeout);
//  * two client lcores, connections split over them, idle lcores valid;
//  * the tuple space: every owned pair used once, then no_port at once.
#include <gtest/gtest.h>

#include <rte_lcore.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "core/stack.hh"
#include "harness.hh"
#include "port.hh"

namespace fg::eal_test {
namespace {

constexpr uint32_t resp_ip = ipv4(198, 18, 0, 2);
constexpr uint32_t first_src = ipv4(198, 18, 1, 0);

struct stepped_pair {
    std::unique_ptr<core::stack> client;
    std::unique_ptr<core::stack> resp;
    std::unique_ptr<tcp::listener> lst;
    uint16_t pa = 0;
    uint16_t pb = 0;

    ~stepped_pair()
    {
        for (uint16_t i = 0; client && i < client->n_lcores(); i++) {
            client->finish(i);
        }
        for (uint16_t i = 0; resp && i < resp->n_lcores(); i++) {
            resp->finish(i);
        }
        if (resp && lst) {
            resp->unlisten(*lst);
        }
        lst.reset();
        client.reset();
        resp.reset();
        glue::port_stop(pa);
        glue::port_stop(pb);
    }

    // Client lcores 1..n, responder lcores 1..n (the ids only name lcores:
    // the test thread steps them all).
    bool start(uint16_t n, const gen::config& g, uint16_t port_lo, uint16_t port_hi, uint32_t n_src,
               std::string& err)
    {
        if (!glue::make_ring_pair(unique_name("gp"), n, 0, pa, pb, err)) {
            return false;
        }
        std::vector<unsigned> lc;
        for (unsigned i = 1; i <= n; i++) {
            lc.push_back(i);
        }
        core::stack_config rc;
        rc.name = unique_name("gresp");
        rc.port_id = pb;
        rc.lcores = lc;
        rc.addrs.push_back(route::addr_range{resp_ip, resp_ip, 16});
        rc.tcp.capacity = 1u << 15;
        resp = core::stack::create(rc, err);
        if (!resp) {
            return false;
        }
        tcp::listen_options lo;
        lo.cookies = tcp::syncookie_mode::always;
        lo.on_accept = tcp::accept_action::hold;
        int rcode = 0;
        lst = resp->listen(0, 80, lo, rcode, err);
        if (!lst) {
            return false;
        }
        core::stack_config cc;
        cc.name = unique_name("gcli");
        cc.port_id = pa;
        cc.lcores = lc;
        cc.tcp.capacity = 1u << 15;
        cc.addrs.push_back(route::addr_range{first_src, first_src + n_src - 1, 16});
        cc.active.ports.lo = port_lo;
        cc.active.ports.hi = port_hi;
        cc.gen = g;
        cc.gen.targets = {make_tuple4(0, 0, resp_ip, 80)};
        for (uint32_t a = 0; a < n_src; a++) {
            cc.gen.laddrs.push_back(rte_cpu_to_be_32(first_src + a));
        }
        client = core::stack::create(cc, err);
        return client != nullptr;
    }

    void step()
    {
        for (uint16_t i = 0; i < client->n_lcores(); i++) {
            client->step(i);
        }
        for (uint16_t i = 0; i < resp->n_lcores(); i++) {
            resp->step(i);
        }
    }

    // Steps until cond() holds (true) or wait_limit passes (false).
    template <class F>
    bool step_until(F&& cond)
    {
        const auto end = std::chrono::steady_clock::now() + wait_limit;
        while (!cond()) {
            if (std::chrono::steady_clock::now() > end) {
                return false;
            }
            for (int k = 0; k < 64; k++) {
                step();
            }
        }
        return true;
    }
};

// 1000 SYNs at once into a next hop nobody has resolved yet: the neighbour
// queue holds 16, and before the generator knew to wait, the other 984 were
// dropped and retransmitted a second later.
TEST(EalGen, NoSynIsLostWhileArpResolves)
{
    std::string err;
    stepped_pair p;
    gen::config g;
    g.cps = 1e9;
    g.burst = 256;
    g.concurrency = 1000;
    g.total = 5000;
    g.close = gen::close_mode::rst;
    ASSERT_TRUE(p.start(1, g, 32768, 60999, 16, err)) << err;
    ASSERT_TRUE(p.step_until([&] { return p.client->generator_done(); }))
        << p.client->tcp_total(tcp::ctr::established) << " established";
    EXPECT_EQ(p.client->tcp_total(tcp::ctr::established), 5000u);
    EXPECT_EQ(p.client->tcp_total(tcp::ctr::syn_retransmits), 0u);
    EXPECT_EQ(p.client->core_total(core::ctr::neigh_queue_dropped), 0u);
    EXPECT_EQ(p.client->neigh_total().queue_full_drops, 0u);
    EXPECT_GE(p.client->gen_total(gen::ctr::arp_waits), 1u); // it did wait
    EXPECT_EQ(p.client->gen_total(gen::ctr::closed_by_rst), 5000u);
    // Every third ACK made a connection at the responder, every RST ended it.
    ASSERT_TRUE(p.step_until([&] {
        return p.resp->tcp_total(tcp::ctr::cookies_accepted) == 5000 && p.resp->conns_in_use() == 0;
    })) << p.resp->tcp_total(tcp::ctr::cookies_accepted) << " accepted";
    EXPECT_EQ(p.client->conns_in_use(), 0u);
}

// Two client lcores: the total and the rate split between them, every
// SYN-ACK comes back to the lcore that owns the pair, and a total smaller
// than the number of lcores leaves one idle (not unlimited).
TEST(EalGen, TwoLcoresSplitTheWorkAndIdleLcoresAreFine)
{
    std::string err;
    {
        stepped_pair p;
        gen::config g;
        g.cps = 1e9;
        g.total = 4001;
        g.concurrency = 200;
        g.close = gen::close_mode::rst;
        ASSERT_TRUE(p.start(2, g, 32768, 60999, 4, err)) << err;
        ASSERT_TRUE(p.step_until([&] { return p.client->generator_done(); }));
        EXPECT_EQ(p.client->tcp_total(tcp::ctr::established), 4001u);
        EXPECT_EQ(p.client->lc(0).gen->tries(), 2001u);
        EXPECT_EQ(p.client->lc(1).gen->tries(), 2000u);
        EXPECT_EQ(p.client->core_total(core::ctr::redirected), 0u); // each pair's replies reach its own lcore
        EXPECT_EQ(p.client->tcp_total(tcp::ctr::syn_retransmits), 0u);
    }
    {
        stepped_pair p;
        gen::config g;
        g.cps = 1000;
        g.total = 1;
        g.close = gen::close_mode::hold;
        ASSERT_TRUE(p.start(2, g, 32768, 60999, 4, err)) << err; // refused to start before
        ASSERT_TRUE(p.step_until([&] { return p.client->tcp_total(tcp::ctr::established) == 1; }));
        EXPECT_EQ(p.client->lc(1).gen->tries(), 0u);
        EXPECT_EQ(p.client->generator_in_flight(), 1u);
        p.client->stop_generator();
        ASSERT_TRUE(p.step_until([&] { return p.client->generator_done(); }));
        EXPECT_EQ(p.client->gen_total(gen::ctr::hold_ended), 1u);
    }
}

// 2 addresses x 16 ports: 32 4-tuples. Held, all 32 open; every further try
// is no_port at once -- the engine is never asked -- and the generator goes on.
TEST(EalGen, FullTupleSpaceIsNoPortAtOnce)
{
    std::string err;
    stepped_pair p;
    gen::config g;
    g.cps = 1e9;
    g.total = 100;
    g.close = gen::close_mode::hold;
    ASSERT_TRUE(p.start(1, g, 40000, 40015, 2, err)) << err;
    ASSERT_TRUE(p.step_until([&] {
        return p.client->lc(0).gen->tries() == 100 && p.client->tcp_total(tcp::ctr::established) == 32;
    }));
    EXPECT_EQ(p.client->tcp_total(tcp::ctr::attempted), 32u);
    EXPECT_EQ(p.client->gen_total(gen::ctr::no_port), 68u);
    EXPECT_EQ(p.client->tcp_total(tcp::ctr::no_port), 0u);
    EXPECT_EQ(p.resp->conns_in_use(), 32u);
    p.client->stop_generator();
    ASSERT_TRUE(p.step_until([&] { return p.client->generator_done(); }));
    EXPECT_EQ(p.client->gen_total(gen::ctr::hold_ended), 32u);
}

} // namespace
} // namespace fg::eal_test

namespace fg::eal_test {
namespace {

// The shared mbuf pool is LIFO (drivers-glue: mbuf_pool_default_ops) unless
// EAL's --mbuf-pool-ops-name chose another: an mbuf freed comes back first,
// still in cache. Through the pool itself (no per-lcore cache): put one
// back, get one -- the same mbuf; DPDK's default FIFO ring would hand out the
// oldest free one instead.
TEST(EalPool, MbufPoolIsLifoUnlessTheUserChoseOne)
{
    std::string err;
    rte_mempool* mp = glue::mbuf_pool(0, 65535, err); // the size glue::port_start() asks for, if first
    ASSERT_NE(mp, nullptr) << err;
    ASSERT_EQ(rte_mbuf_user_mempool_ops(), nullptr) << "this test runs without --mbuf-pool-ops-name";
    EXPECT_STREQ(rte_mempool_get_ops(mp->ops_index)->name, glue::mbuf_pool_default_ops);
    ASSERT_GT(rte_mempool_avail_count(mp), 8u);
    void* a[4];
    ASSERT_EQ(rte_mempool_generic_get(mp, a, 4, nullptr), 0);
    rte_mempool_generic_put(mp, &a[2], 1, nullptr);
    void* b = nullptr;
    ASSERT_EQ(rte_mempool_generic_get(mp, &b, 1, nullptr), 0);
    EXPECT_EQ(b, a[2]) << "the pool handed out another mbuf than the one just freed (FIFO)";
    a[2] = b;
    rte_mempool_generic_put(mp, a, 4, nullptr);
}

} // namespace
} // namespace fg::eal_test
