// The application-thread API under concurrency: several application threads
// at once on the rings between them and the lcores, while the lcores run --
//   connect()           client command rings (multi-producer: two threads)
//   poll_events()       client event rings (multi-consumer: two threads)
//   accept_burst()      the listener's accept ring (two threads)
//   close()             both stacks' command rings, from the consumers
//   poll_events()       the server's event rings (the acceptors watch them)
// 2 x 400 connections: each established event is seen by exactly one
// consumer, each accepted connection by exactly one acceptor, every one is
// closed by the application on both sides and each side reports its end
// (`closed`); afterwards (lcores stopped) the counters agree: 800
// established, 800 accepted, a FIN from each side for each, no stale
// handle, no command or event lost.
//
// Both stacks run on one lcore thread (interleaved, as fg-loadgen runs its
// responder): packets between them never cross threads, so everything that
// does cross threads goes through the application API -- and TSan, which
// cannot see the synchronisation inside DPDK's uninstrumented ring PMD and
// mempool drivers, reports only what concerns that API.
//
// This is the test the ThreadSanitizer phase of tests/run.sh runs
// (FG_TSAN=1: build-tsan/, tests/tsan.supp): whatever the application
// threads and the lcores share outside DPDK's rings must be synchronised.
// While the lcores run, the threads touch nothing but the API (no counters:
// those are read after halt()).
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/runtime.hh"
#include "harness.hh"

namespace fg::eal_test {
namespace {

constexpr uint32_t srv_ip = ipv4(198, 18, 0, 2);
constexpr uint16_t srv_port = 8080;
constexpr unsigned per_thread = 400;
constexpr unsigned n_connectors = 2;
constexpr unsigned total = per_thread * n_connectors;

// rt->halt() waits for the lcore with rte_eal_wait_lcore(), whose
// synchronisation (atomics inside librte_eal, not instrumented) ThreadSanitizer
// cannot see: everything the loop did would look concurrent with the reads
// and the teardown that follow. One more function on the lcore, storing with
// release after the loop returned, and an acquire here make that order
// visible -- it is the order EAL already guarantees.
void after_loop_fence(unsigned lcore)
{
    std::atomic<int> done{0};
    ASSERT_EQ(rte_eal_remote_launch(
                  [](void* p) {
                      static_cast<std::atomic<int>*>(p)->store(1, std::memory_order_release);
                      return 0;
                  },
                  &done, lcore),
              0);
    while (done.load(std::memory_order_acquire) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    rte_eal_wait_lcore(lcore);
}

TEST(EalAppRings, ConcurrentConnectPollAcceptClose)
{
    std::string err;
    // The shared mbuf pool is sized by its first user: 64 k mbufs, as in
    // eal-loss (a ring pair asks for 320 k, more than -m 1024 without hugepages).
    ASSERT_NE(glue::mbuf_pool(0, 65535, err), nullptr) << err;
    std::unique_ptr<apps::runtime> rt = apps::runtime::adopt_eal();
    apps::pair_config pc;
    pc.name = unique_name("ar");
    // Both stacks' loops on one lcore (run_shared_lcore, as fg-loadgen runs
    // its responder): the packets between them never change threads, so
    // what crosses threads is exactly the application API.
    pc.server = test_config(unique_name("arsrv"), 0, {1}, "198.18.0.2/24");
    pc.client = test_config(unique_name("arcli"), 0, {1}, "198.18.0.1/24");
    pc.client.tcp.capacity = 4096;
    pc.server.tcp.capacity = 4096;
    pc.client.event_ring_size = 4096;
    pc.server.event_ring_size = 4096;
    apps::stack_pair sp;
    ASSERT_TRUE(rt->add_pair(pc, sp, err)) << err;
    core::stack* srv = sp.server;
    core::stack* cli = sp.client;
    tcp::listen_options lo;
    lo.backlog = 1024;
    tcp::listener* l = rt->listen(*srv, 0, srv_port, lo, err);
    ASSERT_NE(l, nullptr) << err;
    ASSERT_TRUE(rt->launch(err)) << err;

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto late = [&] { return std::chrono::steady_clock::now() > deadline; };
    std::atomic<unsigned> established{0}, accepted{0}, failed{0}, close_retries{0};
    std::atomic<unsigned> cli_closed{0}, srv_closed{0}; // `closed` events: the FIN exchange is over
    std::mutex mu;
    std::set<uint64_t> users_seen;            // established events' user values
    std::set<std::pair<rte_be32_t, uint16_t>> accepted_ends; // (client addr, client port)
    std::vector<std::thread> threads;

    // Two connectors: source ports allocated by the client stack.
    for (unsigned t = 0; t < n_connectors; t++) {
        threads.emplace_back([&, t] {
            for (unsigned i = 0; i < per_thread && !late(); i++) {
                const uint64_t user = uint64_t(t) << 32 | i;
                while (!cli->connect(srv_ip, srv_port, 0, 0, user) && !late()) {
                    std::this_thread::yield(); // command ring full: try again
                }
            }
        });
    }
    // Two event consumers, each polling both client lcores' rings, closing
    // every connection that established.
    for (unsigned t = 0; t < 2; t++) {
        threads.emplace_back([&] {
            tcp::event ev[8];
            while ((cli_closed.load() + failed.load() < total || srv_closed.load() < total) && !late()) {
                bool any = false;
                for (uint16_t idx = 0; idx < cli->n_lcores(); idx++) {
                    const unsigned k = cli->poll_events(idx, ev, 8);
                    any = any || k != 0;
                    for (unsigned i = 0; i < k; i++) {
                        if (ev[i].type == tcp::event_type::established) {
                            {
                                std::lock_guard<std::mutex> g(mu);
                                users_seen.insert(ev[i].user);
                            }
                            while (!cli->close(ev[i].h) && !late()) {
                                close_retries++;
                                std::this_thread::yield();
                            }
                            established++;
                        } else if (ev[i].type == tcp::event_type::closed && ev[i].error == 0) {
                            cli_closed++;
                        } else if (ev[i].type != tcp::event_type::peer_closed) {
                            failed++;
                        }
                    }
                }
                if (!any) {
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
                }
            }
        });
    }
    // Two acceptors, closing every accepted connection, and watching the
    // server's event rings for the end of each.
    for (unsigned t = 0; t < 2; t++) {
        threads.emplace_back([&] {
            tcp::event ev[8];
            while ((srv_closed.load() < total || cli_closed.load() + failed.load() < total) && !late()) {
                for (uint16_t idx = 0; idx < srv->n_lcores(); idx++) {
                    const unsigned k = srv->poll_events(idx, ev, 8);
                    for (unsigned i = 0; i < k; i++) {
                        if (ev[i].type == tcp::event_type::closed && ev[i].error == 0) {
                            srv_closed++;
                        } else if (ev[i].type != tcp::event_type::peer_closed) {
                            failed++;
                        }
                    }
                }
                const unsigned k = l->accept_burst(ev, 8);
                for (unsigned i = 0; i < k; i++) {
                    {
                        std::lock_guard<std::mutex> g(mu);
                        accepted_ends.insert({ev[i].tuple.raddr, ev[i].tuple.rport});
                    }
                    while (!srv->close(ev[i].h) && !late()) {
                        close_retries++;
                        std::this_thread::yield();
                    }
                    accepted++;
                }
                if (k == 0) {
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
                }
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    rt->halt();
    after_loop_fence(1);

    EXPECT_FALSE(late()) << "not done in 60 s: " << established.load() << " established, " << accepted.load()
                         << " accepted, " << cli_closed.load() << " + " << srv_closed.load() << " closed, "
                         << failed.load() << " failed";
    EXPECT_EQ(cli_closed.load(), total);
    EXPECT_EQ(srv_closed.load(), total);
    EXPECT_EQ(failed.load(), 0u);
    EXPECT_EQ(established.load(), total);
    EXPECT_EQ(users_seen.size(), size_t(total)) << "an established event seen twice, or one lost";
    EXPECT_EQ(accepted.load(), total);
    EXPECT_EQ(accepted_ends.size(), size_t(total)) << "a connection accepted twice";
    EXPECT_EQ(cli->tcp_total(tcp::ctr::attempted), total);
    EXPECT_EQ(cli->tcp_total(tcp::ctr::established), total);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::accepted), total);
    EXPECT_EQ(cli->tcp_total(tcp::ctr::event_ring_full), 0u);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::accept_queue_overflows), 0u);
    EXPECT_EQ(cli->tcp_total(tcp::ctr::stale_handle) + srv->tcp_total(tcp::ctr::stale_handle), 0u);
    EXPECT_EQ(cli->tcp_total(tcp::ctr::bad_command) + srv->tcp_total(tcp::ctr::bad_command), 0u);
    // Every close the threads sent was carried out: a FIN from each side.
    EXPECT_EQ(cli->tcp_total(tcp::ctr::fin_sent), total);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::fin_sent), total);
}

} // namespace
} // namespace fg::eal_test
