#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <random>
#include <thread>

#include "base/tuple.hh"
#include "table/listener_table.hh"

namespace fg::table {
namespace {

using entry = listener_table::entry;

rte_be32_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return rte_cpu_to_be_32(ipv4(a, b, c, d)); }
rte_be16_t port(uint16_t p) { return rte_cpu_to_be_16(p); }
const rte_be32_t any = 0;
const rte_be32_t a1 = addr(198, 18, 0, 1);
const rte_be32_t a2 = addr(198, 18, 0, 2);

entry binding(rte_be32_t a, uint16_t p, bool reuse = false, bool listening = false, uint32_t id = 0)
{
    return entry{a, port(p), listening, reuse, id, nullptr};
}

class Listener : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(t.init(4)); }
    listener_table t;
};

// The rules below were checked against this machine's kernel with Python
// sockets (bind/listen on 127.0.0.x, SO_REUSEADDR on/off): every EADDRINUSE
// and every success here is what Linux answers for the same sequence.

TEST_F(Listener, ExactListenerMatchesOnlyItsAddress)
{
    ASSERT_EQ(t.bind(binding(a1, 80, false, true, 7)), 0);
    const entry* e = t.lookup(a1, port(80));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->id, 7u);
    EXPECT_EQ(e->addr, a1);
    EXPECT_EQ(e->port, port(80));
    EXPECT_EQ(t.lookup(a2, port(80)), nullptr);
    EXPECT_EQ(t.lookup(a1, port(81)), nullptr);
}

TEST_F(Listener, WildcardListenerMatchesEveryAddress)
{
    ASSERT_EQ(t.bind(binding(any, 80, false, true, 9)), 0);
    ASSERT_NE(t.lookup(a1, port(80)), nullptr);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 9u);
    EXPECT_EQ(t.lookup(a2, port(80))->id, 9u);
    EXPECT_EQ(t.lookup(a1, port(8080)), nullptr);
}

// Exact beats wildcard: under Linux's rules (no SO_REUSEPORT) an exact and a
// wildcard listener can never share a port, so the only way lookup() meets
// both kinds of binding on one port is a listener next to non-listening
// SO_REUSEADDR bindings. The listener must win for its addresses and the
// bound-only one must stay invisible.
TEST_F(Listener, ExactBeatsWildcardAndBoundOnlyIsInvisible)
{
    ASSERT_EQ(t.bind(binding(any, 80, true, false, 1)), 0);
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 2)), 0);
    EXPECT_EQ(t.lookup(a1, port(80)), nullptr);
    EXPECT_EQ(t.lookup(a2, port(80)), nullptr);
    ASSERT_EQ(t.listen(a1, port(80)), 0);
    ASSERT_NE(t.lookup(a1, port(80)), nullptr);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 2u);
    EXPECT_EQ(t.lookup(a2, port(80)), nullptr);
    // And the other way round: the wildcard listens, the exact one is bound only.
    ASSERT_EQ(t.bind(binding(any, 81, true, false, 3)), 0);
    ASSERT_EQ(t.bind(binding(a1, 81, true, false, 4)), 0);
    ASSERT_EQ(t.listen(any, port(81)), 0);
    EXPECT_EQ(t.lookup(a1, port(81))->id, 3u);
    EXPECT_EQ(t.lookup(a2, port(81))->id, 3u);
}

TEST_F(Listener, RuleSameAddressWithoutReuseConflicts)
{
    ASSERT_EQ(t.bind(binding(a1, 80)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80)), -EADDRINUSE);
}

TEST_F(Listener, RuleWildcardOverlapsEveryAddress)
{
    ASSERT_EQ(t.bind(binding(any, 80)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80)), -EADDRINUSE);
    ASSERT_EQ(t.bind(binding(a2, 81)), 0);
    EXPECT_EQ(t.bind(binding(any, 81)), -EADDRINUSE);
}

TEST_F(Listener, RuleDifferentAddressesNeverConflict)
{
    ASSERT_EQ(t.bind(binding(a1, 80, false, true)), 0);
    EXPECT_EQ(t.bind(binding(a2, 80, false, true)), 0);
    EXPECT_EQ(t.lookup(a1, port(80))->addr, a1);
    EXPECT_EQ(t.lookup(a2, port(80))->addr, a2);
}

TEST_F(Listener, RuleBothReuseaddrNeitherListeningCoexist)
{
    ASSERT_EQ(t.bind(binding(a1, 80, true)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80, true)), 0);
    EXPECT_EQ(t.bind(binding(any, 80, true)), 0);
    EXPECT_EQ(t.bindings(), 3u);
}

TEST_F(Listener, RuleReuseaddrOnOnlyOneSideConflicts)
{
    ASSERT_EQ(t.bind(binding(a1, 80, true)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80, false)), -EADDRINUSE);
    ASSERT_EQ(t.bind(binding(a1, 81, false)), 0);
    EXPECT_EQ(t.bind(binding(a1, 81, true)), -EADDRINUSE);
}

TEST_F(Listener, RuleReuseaddrDoesNotPassAListener)
{
    ASSERT_EQ(t.bind(binding(a1, 80, true, true)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80, true)), -EADDRINUSE);
    ASSERT_EQ(t.bind(binding(any, 81, true, true)), 0);
    EXPECT_EQ(t.bind(binding(a1, 81, true)), -EADDRINUSE);
}

TEST_F(Listener, RuleSecondListenerOnOverlapRefusedEvenWithReuseaddr)
{
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 1)), 0);
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 2)), 0);
    EXPECT_EQ(t.listen(a1, port(80), 1), 0);
    EXPECT_EQ(t.listen(a1, port(80), 2), -EADDRINUSE);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 1u);
    // Wildcard listener, then an exact one on the same port.
    ASSERT_EQ(t.bind(binding(any, 81, true, false, 3)), 0);
    ASSERT_EQ(t.bind(binding(a1, 81, true, false, 4)), 0);
    EXPECT_EQ(t.listen(any, port(81)), 0);
    EXPECT_EQ(t.listen(a1, port(81)), -EADDRINUSE);
    // Binding with listening set is checked as a listener too.
    EXPECT_EQ(t.bind(binding(a2, 81, true, true)), -EADDRINUSE);
}

TEST_F(Listener, ListenerMayJoinNonListeningReuseaddrBindings)
{
    // Linux allows this (the other binding has SO_REUSEADDR and is not
    // listening), and so do we.
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 1)), 0);
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 2)), 0);
    EXPECT_EQ(t.listen(a1, port(80), 2), 0);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 2u);
}

TEST_F(Listener, ListenAndUnbindErrors)
{
    EXPECT_EQ(t.bind(binding(a1, 0)), -EINVAL);
    EXPECT_EQ(t.listen(a1, port(80)), -ENOENT);
    EXPECT_EQ(t.unbind(a1, port(80)), -ENOENT);
    ASSERT_EQ(t.bind(binding(a1, 80, false, false, 5)), 0);
    EXPECT_EQ(t.listen(a2, port(80)), -ENOENT);
    EXPECT_EQ(t.listen(a1, port(80), 6), -ENOENT);
    EXPECT_EQ(t.listen(a1, port(80), 5), 0);
    EXPECT_EQ(t.listen(a1, port(80), 5), 0); // already listening
    EXPECT_EQ(t.unbind(a1, port(80), 6), -ENOENT);
}

TEST_F(Listener, UnbindThenRebind)
{
    ASSERT_EQ(t.bind(binding(a1, 80, false, true, 1)), 0);
    EXPECT_EQ(t.bind(binding(a1, 80, false, true, 2)), -EADDRINUSE);
    ASSERT_EQ(t.unbind(a1, port(80)), 0);
    EXPECT_EQ(t.lookup(a1, port(80)), nullptr);
    EXPECT_FALSE(t.port_in_use(a1, port(80)));
    EXPECT_EQ(t.bindings(), 0u);
    ASSERT_EQ(t.bind(binding(a1, 80, false, true, 2)), 0);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 2u);
}

TEST_F(Listener, UnbindById)
{
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 1)), 0);
    ASSERT_EQ(t.bind(binding(a1, 80, true, false, 2)), 0);
    ASSERT_EQ(t.unbind(a1, port(80), 1), 0);
    EXPECT_EQ(t.bindings(), 1u);
    ASSERT_EQ(t.listen(a1, port(80)), 0);
    EXPECT_EQ(t.lookup(a1, port(80))->id, 2u);
}

TEST_F(Listener, PortInUseMeansAnOverlappingBinding)
{
    ASSERT_EQ(t.bind(binding(a1, 80)), 0);
    EXPECT_TRUE(t.port_in_use(a1, port(80)));
    EXPECT_TRUE(t.port_in_use(any, port(80)));
    EXPECT_FALSE(t.port_in_use(a2, port(80)));
    EXPECT_FALSE(t.port_in_use(a1, port(81)));
    ASSERT_EQ(t.bind(binding(any, 81)), 0);
    EXPECT_TRUE(t.port_in_use(a2, port(81)));
}

TEST_F(Listener, EveryPortBoundThenChurnTenTimes)
{
    // All 65535 ports bound (exact listener + a reuseaddr binding of another
    // address on each), then 10 rounds of unbind + rebind of every port.
    for (uint32_t p = 1; p < 65536; p++) {
        ASSERT_EQ(t.bind(binding(a1, uint16_t(p), false, true, p)), 0);
        ASSERT_EQ(t.bind(binding(a2, uint16_t(p), true, false, p + 65536)), 0);
    }
    EXPECT_EQ(t.bindings(), 2u * 65535);
    uint64_t ok = 0;
    for (int r = 0; r < 10; r++) {
        for (uint32_t p = 1; p < 65536; p++) {
            ASSERT_EQ(t.unbind(a1, port(uint16_t(p))), 0);
            ok += t.bind(binding(a1, uint16_t(p), false, true, p)) == 0;
        }
    }
    EXPECT_EQ(ok, 10ull * 65535);
    EXPECT_EQ(t.bindings(), 2u * 65535);
    for (uint32_t p = 1; p < 65536; p += 97) {
        ASSERT_NE(t.lookup(a1, port(uint16_t(p))), nullptr);
        EXPECT_EQ(t.lookup(a1, port(uint16_t(p)))->id, p);
        EXPECT_EQ(t.lookup(a2, port(uint16_t(p))), nullptr);
    }
    EXPECT_EQ(t.retired(), 0u);
}

TEST_F(Listener, RetiredListsWaitForEveryReader)
{
    ASSERT_EQ(t.bind(binding(a1, 80)), 0);
    ASSERT_EQ(t.unbind(a1, port(80)), 0);
    EXPECT_EQ(t.retired(), 0u) << "no reader registered: freed at once";
    ASSERT_EQ(t.register_reader(0), 0);
    ASSERT_EQ(t.register_reader(1), 0);
    EXPECT_EQ(t.register_reader(4), -EINVAL);
    ASSERT_EQ(t.bind(binding(a1, 80)), 0);
    ASSERT_EQ(t.bind(binding(a2, 80)), 0); // retires the 1-entry list
    EXPECT_EQ(t.retired(), 1u);
    t.quiescent(0);
    EXPECT_EQ(t.reclaim(), 1u) << "reader 1 may still hold it";
    t.quiescent(1);
    EXPECT_EQ(t.reclaim(), 0u);
    ASSERT_EQ(t.unbind(a2, port(80)), 0);
    EXPECT_EQ(t.retired(), 1u);
    t.unregister_reader(1); // an unregistered reader no longer holds anything back
    t.quiescent(0);
    EXPECT_EQ(t.reclaim(), 0u);
    t.unregister_reader(0);
}

// A reader lcore looping on lookups while a control thread adds and removes
// listeners. Every entry the reader sees must be intact (its fields agree
// with the port it was looked up on) until the reader's next quiescent
// state. Under ASan, freeing a list too early is a use-after-free report;
// without it, the freed memory is reused by later lists and shows up as a
// mismatch.
TEST_F(Listener, ReaderLoopsWhileWriterChangesListenersWithRcuReclaim)
{
    constexpr uint16_t n = 64;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> seen{0}, bad{0};
    ASSERT_EQ(t.register_reader(0), 0);
    std::thread reader([&] {
        std::mt19937 rng(1);
        uint64_t hits = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (int k = 0; k < 16; k++) {
                const uint16_t p = uint16_t(1000 + rng() % n);
                const rte_be32_t a = rng() & 1 ? a1 : a2;
                const entry* e = t.lookup(a, port(p));
                if (e != nullptr) {
                    hits++;
                    const bool ok = e->port == port(p) && e->listening && (e->addr == a || e->addr == 0) &&
                                    e->id == uint32_t(p) * 4 + (e->addr == a1 ? 1 : e->addr == a2 ? 2 : 0);
                    bad += !ok;
                }
            }
            t.quiescent(0);
        }
        seen += hits;
    });
    std::mt19937 rng(2);
    uint64_t changes = 0;
    for (int i = 0; i < 40000; i++) {
        const uint16_t p = uint16_t(1000 + rng() % n);
        const int which = int(rng() % 3);
        const rte_be32_t a = which == 0 ? any : which == 1 ? a1 : a2;
        const uint32_t id = uint32_t(p) * 4 + uint32_t(which);
        if (t.bind(binding(a, p, false, true, id)) == 0) {
            changes++;
        } else if (t.unbind(a, port(p), id) == 0) {
            changes++;
        }
    }
    stop = true;
    reader.join();
    t.unregister_reader(0);
    t.synchronize();
    EXPECT_EQ(t.retired(), 0u);
    EXPECT_GT(changes, 10000u);
    EXPECT_GT(seen.load(), 0u);
    EXPECT_EQ(bad.load(), 0u);
}

} // namespace
} // namespace fg::table
