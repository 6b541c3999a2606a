// Neighbour (ARP) table: states, queueing, retransmission, learning, expiry.
// Packets are plain fake pointers: the table never dereferences them.
#include <gtest/gtest.h>

#include <vector>

#include "base/tuple.hh"
#include "route/neigh.hh"

namespace {

using fg::ipv4;
using fg::route::arp_kind;
using fg::route::arp_outcome;
using fg::route::neigh_action;
using fg::route::neigh_config;
using fg::route::neigh_state;
using fg::route::neigh_table;

rte_be32_t ip(uint8_t d) { return rte_cpu_to_be_32(ipv4(198, 18, 0, d)); }
void* pkt(int i) { return reinterpret_cast<void*>(uintptr_t(0x1000 + 16 * i)); }
rte_ether_addr mac(uint8_t n) { return rte_ether_addr{{0x02, 0, 0, 0, 0, n}}; }
bool same(const rte_ether_addr& a, const rte_ether_addr& b) { return rte_is_same_ether_addr(&a, &b); }

std::unique_ptr<neigh_table> make(neigh_config cfg = {})
{
    std::string err;
    auto t = neigh_table::create(cfg, err);
    EXPECT_NE(t, nullptr) << err;
    return t;
}

// Records what the table hands back.
struct sink {
    std::vector<void*> pkts;
    std::vector<rte_ether_addr> macs;
    std::vector<rte_be32_t> requests;
    auto drain()
    {
        return [this](void* p, const rte_ether_addr& m) {
            pkts.push_back(p);
            macs.push_back(m);
        };
    }
    auto send() { return [this](rte_be32_t a) { requests.push_back(a); }; }
    auto fail() { return [this](void* p) { pkts.push_back(p); }; }
};

neigh_state state_of(const neigh_table& t, rte_be32_t a)
{
    auto v = t.find(a);
    return v ? v->state : neigh_state::free;
}

TEST(Neigh, FirstPacketQueuesAndAsksForARequest)
{
    auto t = make();
    auto r = t->resolve(ip(1), pkt(0), 0);
    EXPECT_EQ(r.action, neigh_action::queued_send_request);
    r = t->resolve(ip(1), pkt(1), 10);
    EXPECT_EQ(r.action, neigh_action::queued); // request already out: no second one
    auto v = t->find(ip(1));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, neigh_state::incomplete);
    EXPECT_EQ(v->queued, 2);
    EXPECT_EQ(t->counters().misses, 1u);
    EXPECT_EQ(t->counters().requests, 1u);
    EXPECT_EQ(t->counters().queued, 2u);
    EXPECT_EQ(t->size(), 1u);
}

TEST(Neigh, NullPacketStartsResolutionWithoutQueueing)
{
    auto t = make();
    EXPECT_EQ(t->resolve(ip(1), nullptr, 0).action, neigh_action::queued_send_request);
    EXPECT_EQ(t->find(ip(1))->queued, 0);
    sink s;
    EXPECT_EQ(t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 5, s.drain()), arp_outcome::resolved);
    EXPECT_TRUE(s.pkts.empty());
}

TEST(Neigh, ReplyDrainsTheQueueInOrder)
{
    auto t = make();
    for (int i = 0; i < 5; i++) {
        t->resolve(ip(1), pkt(i), uint32_t(i));
    }
    sink s;
    EXPECT_EQ(t->on_arp(ip(1), mac(7), arp_kind::reply_to_us, 20, s.drain()), arp_outcome::resolved);
    ASSERT_EQ(s.pkts.size(), 5u);
    for (int i = 0; i < 5; i++) {
        EXPECT_EQ(s.pkts[i], pkt(i));
        EXPECT_TRUE(same(s.macs[i], mac(7)));
    }
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::reachable);
    EXPECT_EQ(t->find(ip(1))->queued, 0);
    auto r = t->resolve(ip(1), pkt(9), 30);
    EXPECT_EQ(r.action, neigh_action::mac_known);
    EXPECT_TRUE(same(r.mac, mac(7)));
    EXPECT_EQ(t->counters().resolved, 1u);
    EXPECT_EQ(t->counters().drained, 5u);
    EXPECT_EQ(t->counters().hits, 1u);
    // Resolved: no more retransmissions.
    t->tick(5000, s.send(), s.fail());
    EXPECT_TRUE(s.requests.empty());
}

TEST(Neigh, FullQueueDropsTheOldestAndCounts)
{
    neigh_config cfg;
    cfg.queue_len = 4;
    auto t = make(cfg);
    for (int i = 0; i < 4; i++) {
        EXPECT_NE(t->resolve(ip(1), pkt(i), 0).action, neigh_action::queued_dropped_oldest);
    }
    auto r = t->resolve(ip(1), pkt(4), 0);
    EXPECT_EQ(r.action, neigh_action::queued_dropped_oldest);
    EXPECT_EQ(r.drop, pkt(0));
    r = t->resolve(ip(1), pkt(5), 0);
    EXPECT_EQ(r.drop, pkt(1));
    EXPECT_EQ(t->counters().queue_full_drops, 2u);
    EXPECT_EQ(t->find(ip(1))->queued, 4);
    sink s;
    t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 1, s.drain());
    EXPECT_EQ(s.pkts, (std::vector<void*>{pkt(2), pkt(3), pkt(4), pkt(5)}));
}

TEST(Neigh, RetransmitsThenFailsAndHandsPacketsBack)
{
    auto t = make(); // 3 tries, 1 s apart
    t->resolve(ip(1), pkt(0), 0);
    t->resolve(ip(1), pkt(1), 100);
    sink s;
    t->tick(999, s.send(), s.fail());
    EXPECT_TRUE(s.requests.empty());
    t->tick(1000, s.send(), s.fail());
    EXPECT_EQ(s.requests, std::vector<rte_be32_t>{ip(1)});
    t->tick(1500, s.send(), s.fail());
    EXPECT_EQ(s.requests.size(), 1u);
    t->tick(2000, s.send(), s.fail());
    EXPECT_EQ(s.requests.size(), 2u);
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::incomplete);
    EXPECT_TRUE(s.pkts.empty());
    t->tick(3000, s.send(), s.fail()); // third request unanswered for 1 s
    EXPECT_EQ(s.requests.size(), 2u);
    EXPECT_EQ(s.pkts, (std::vector<void*>{pkt(0), pkt(1)}));
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::failed);
    EXPECT_EQ(t->counters().requests, 3u);
    EXPECT_EQ(t->counters().retransmits, 2u);
    EXPECT_EQ(t->counters().failures, 1u);
    EXPECT_EQ(t->counters().failed_drops, 2u);
    // Failed: packets are refused (not taken), counted.
    EXPECT_EQ(t->resolve(ip(1), pkt(2), 3500).action, neigh_action::failed);
    EXPECT_EQ(t->counters().failed_refusals, 1u);
    EXPECT_EQ(t->find(ip(1))->queued, 0);
}

TEST(Neigh, RetransmitTimersArePerEntry)
{
    auto t = make();
    sink s;
    t->resolve(ip(1), pkt(0), 0);
    t->resolve(ip(2), pkt(1), 500);
    t->resolve(ip(3), pkt(2), 700);
    t->tick(1000, s.send(), s.fail());
    EXPECT_EQ(s.requests, std::vector<rte_be32_t>{ip(1)});
    // ip(2) resolves before its retransmission is due: it drops off the list.
    t->on_arp(ip(2), mac(2), arp_kind::reply_to_us, 1200, s.drain());
    t->tick(1500, s.send(), s.fail());
    t->tick(1700, s.send(), s.fail());
    t->tick(2000, s.send(), s.fail());
    EXPECT_EQ(s.requests, (std::vector<rte_be32_t>{ip(1), ip(3), ip(1)}));
}

TEST(Neigh, FailedEntryIsRetriedLater)
{
    auto t = make();
    sink s;
    t->resolve(ip(1), pkt(0), 0);
    for (uint32_t now = 1000; now <= 3000; now += 1000) {
        t->tick(now, s.send(), s.fail());
    }
    ASSERT_EQ(state_of(*t, ip(1)), neigh_state::failed);
    EXPECT_EQ(t->resolve(ip(1), pkt(1), 3999).action, neigh_action::failed);
    // failed_hold_ms later, a packet starts a new round of requests.
    EXPECT_EQ(t->resolve(ip(1), pkt(2), 4000).action, neigh_action::queued_send_request);
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::incomplete);
    EXPECT_EQ(t->find(ip(1))->tries, 1);
    s.pkts.clear();
    EXPECT_EQ(t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 4100, s.drain()), arp_outcome::resolved);
    EXPECT_EQ(s.pkts, std::vector<void*>{pkt(2)});
}

TEST(Neigh, FailedEntryExpiresFromTheTable)
{
    neigh_config cfg;
    cfg.max_entries = 8; // one tick sweeps them all
    auto t = make(cfg);
    sink s;
    t->resolve(ip(1), pkt(0), 0);
    for (uint32_t now = 1000; now <= 3000; now += 1000) {
        t->tick(now, s.send(), s.fail());
    }
    ASSERT_EQ(state_of(*t, ip(1)), neigh_state::failed);
    t->tick(3999, s.send(), s.fail());
    EXPECT_TRUE(t->find(ip(1)));
    t->tick(4000, s.send(), s.fail());
    EXPECT_FALSE(t->find(ip(1)));
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->counters().expired, 1u);
    EXPECT_EQ(t->resolve(ip(1), pkt(1), 4001).action, neigh_action::queued_send_request);
}

TEST(Neigh, LearnsTheSenderOfARequestToUs)
{
    auto t = make();
    sink s;
    EXPECT_EQ(t->on_arp(ip(2), mac(2), arp_kind::request_to_us, 0, s.drain()), arp_outcome::created);
    EXPECT_EQ(state_of(*t, ip(2)), neigh_state::stale);
    EXPECT_EQ(t->counters().learned, 1u);
    // Stale: used at once, and re-confirmed with one request.
    auto r = t->resolve(ip(2), pkt(0), 10);
    EXPECT_EQ(r.action, neigh_action::mac_known_send_request);
    EXPECT_TRUE(same(r.mac, mac(2)));
    EXPECT_EQ(t->resolve(ip(2), pkt(1), 20).action, neigh_action::mac_known);
    EXPECT_EQ(t->counters().probes, 1u);
    // The reply confirms it.
    EXPECT_EQ(t->on_arp(ip(2), mac(2), arp_kind::reply_to_us, 30, s.drain()), arp_outcome::confirmed);
    EXPECT_EQ(state_of(*t, ip(2)), neigh_state::reachable);
    EXPECT_EQ(t->resolve(ip(2), pkt(2), 40).action, neigh_action::mac_known);
    EXPECT_TRUE(s.pkts.empty());
}

TEST(Neigh, UnansweredProbesResolveAfresh)
{
    auto t = make();
    sink s;
    t->on_arp(ip(2), mac(2), arp_kind::request_to_us, 0, s.drain());
    EXPECT_EQ(t->resolve(ip(2), pkt(0), 0).action, neigh_action::mac_known_send_request);
    EXPECT_EQ(t->resolve(ip(2), pkt(0), 1000).action, neigh_action::mac_known_send_request);
    EXPECT_EQ(t->resolve(ip(2), pkt(0), 2000).action, neigh_action::mac_known_send_request);
    EXPECT_EQ(t->resolve(ip(2), pkt(0), 2500).action, neigh_action::mac_known);
    // Three probes unanswered for 1 s: the MAC is no longer trusted.
    EXPECT_EQ(t->resolve(ip(2), pkt(1), 3000).action, neigh_action::queued_send_request);
    EXPECT_EQ(state_of(*t, ip(2)), neigh_state::incomplete);
    EXPECT_EQ(t->counters().probes, 3u);
}

TEST(Neigh, ReachableGoesStaleAfterReachableTime)
{
    auto t = make();
    sink s;
    t->resolve(ip(1), nullptr, 0);
    t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 0, s.drain());
    EXPECT_EQ(t->resolve(ip(1), pkt(0), 29999).action, neigh_action::mac_known);
    EXPECT_EQ(t->resolve(ip(1), pkt(0), 30000).action, neigh_action::mac_known_send_request);
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::stale);
}

TEST(Neigh, IgnoresArpAboutStrangersUnlessARequestToUs)
{
    auto t = make();
    sink s;
    EXPECT_EQ(t->on_arp(ip(3), mac(3), arp_kind::reply_to_us, 0, s.drain()), arp_outcome::ignored_unknown);
    EXPECT_EQ(t->on_arp(ip(3), mac(3), arp_kind::other, 0, s.drain()), arp_outcome::ignored_unknown);
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->counters().ignored_unknown, 2u);
}

TEST(Neigh, OtherArpUpdatesAKnownEntryToStale)
{
    auto t = make();
    sink s;
    t->resolve(ip(1), nullptr, 0);
    t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 0, s.drain());
    // Same MAC from a gratuitous ARP: still reachable.
    EXPECT_EQ(t->on_arp(ip(1), mac(1), arp_kind::other, 5, s.drain()), arp_outcome::confirmed);
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::reachable);
    // A new MAC: taken, but unconfirmed.
    EXPECT_EQ(t->on_arp(ip(1), mac(9), arp_kind::other, 10, s.drain()), arp_outcome::confirmed);
    EXPECT_EQ(state_of(*t, ip(1)), neigh_state::stale);
    EXPECT_TRUE(same(t->find(ip(1))->mac, mac(9)));
    EXPECT_EQ(t->counters().mac_changes, 1u);
    // A gratuitous ARP also resolves an entry we are waiting for.
    t->resolve(ip(4), pkt(0), 20);
    EXPECT_EQ(t->on_arp(ip(4), mac(4), arp_kind::other, 30, s.drain()), arp_outcome::resolved);
    EXPECT_EQ(s.pkts, std::vector<void*>{pkt(0)});
}

TEST(Neigh, BadSendersAreIgnored)
{
    auto t = make();
    sink s;
    const rte_ether_addr bcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    const rte_ether_addr mcast{{0x01, 0x00, 0x5e, 0, 0, 1}};
    const rte_ether_addr zero{};
    EXPECT_EQ(t->on_arp(0, mac(1), arp_kind::request_to_us, 0, s.drain()), arp_outcome::ignored_bad_sender);
    EXPECT_EQ(t->on_arp(rte_cpu_to_be_32(ipv4(127, 0, 0, 1)), mac(1), arp_kind::request_to_us, 0, s.drain()),
              arp_outcome::ignored_bad_sender);
    EXPECT_EQ(t->on_arp(rte_cpu_to_be_32(ipv4(224, 0, 0, 1)), mac(1), arp_kind::request_to_us, 0, s.drain()),
              arp_outcome::ignored_bad_sender);
    for (const auto& m : {bcast, mcast, zero}) {
        EXPECT_EQ(t->on_arp(ip(1), m, arp_kind::request_to_us, 0, s.drain()), arp_outcome::ignored_bad_sender);
    }
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->counters().ignored_bad_sender, 6u);
    EXPECT_EQ(t->resolve(0, pkt(0), 0).action, neigh_action::failed);
}

TEST(Neigh, StaticEntriesNeverExpireNorChange)
{
    neigh_config cfg;
    cfg.max_entries = 4;
    auto t = make(cfg);
    std::string err;
    ASSERT_TRUE(t->add_static(ip(5), mac(5), err)) << err;
    auto r = t->resolve(ip(5), pkt(0), 0);
    EXPECT_EQ(r.action, neigh_action::mac_known);
    EXPECT_TRUE(same(r.mac, mac(5)));
    sink s;
    for (arp_kind k : {arp_kind::reply_to_us, arp_kind::request_to_us, arp_kind::other}) {
        EXPECT_EQ(t->on_arp(ip(5), mac(6), k, 10, s.drain()), arp_outcome::ignored_static);
    }
    EXPECT_TRUE(same(t->find(ip(5))->mac, mac(5)));
    // Far beyond reachable, gc_stale and failed_hold times, many sweeps.
    for (uint32_t now = 0; now < 10'000'000; now += 100'000) {
        t->tick(now, s.send(), s.fail());
    }
    EXPECT_EQ(state_of(*t, ip(5)), neigh_state::permanent);
    r = t->resolve(ip(5), pkt(1), 10'000'000);
    EXPECT_EQ(r.action, neigh_action::mac_known);
    EXPECT_TRUE(same(r.mac, mac(5)));
    EXPECT_TRUE(s.requests.empty());
    EXPECT_EQ(t->counters().ignored_static, 3u);
}

TEST(Neigh, StaticEntryResolvesAPendingOne)
{
    auto t = make();
    t->resolve(ip(5), pkt(0), 0);
    t->resolve(ip(5), pkt(1), 0);
    sink s;
    std::string err;
    ASSERT_TRUE(t->add_static(ip(5), mac(5), err, s.drain())) << err;
    EXPECT_EQ(s.pkts, (std::vector<void*>{pkt(0), pkt(1)}));
    EXPECT_TRUE(same(s.macs[0], mac(5)));
    t->tick(5000, s.send(), s.fail()); // no longer pending: no retransmit, no failure
    EXPECT_TRUE(s.requests.empty());
    EXPECT_EQ(state_of(*t, ip(5)), neigh_state::permanent);
    EXPECT_FALSE(t->add_static(rte_cpu_to_be_32(ipv4(224, 0, 0, 1)), mac(1), err));
    EXPECT_FALSE(t->add_static(ip(6), rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, err));
}

TEST(Neigh, TableFullIsACountedDrop)
{
    neigh_config cfg;
    cfg.max_entries = 2;
    auto t = make(cfg);
    sink s;
    t->resolve(ip(1), pkt(0), 0);
    t->resolve(ip(2), pkt(1), 0);
    auto r = t->resolve(ip(3), pkt(2), 0);
    EXPECT_EQ(r.action, neigh_action::table_full); // pkt(2) stays the caller's
    EXPECT_EQ(t->counters().table_full_drops, 1u);
    EXPECT_FALSE(t->find(ip(3)));
    EXPECT_EQ(t->on_arp(ip(4), mac(4), arp_kind::request_to_us, 0, s.drain()), arp_outcome::table_full);
    EXPECT_EQ(t->counters().learn_table_full, 1u);
    std::string err;
    EXPECT_FALSE(t->add_static(ip(5), mac(5), err));
    EXPECT_NE(err.find("table full"), std::string::npos) << err;
    // Once the two fail and expire, there is room again.
    for (uint32_t now = 1000; now <= 4000; now += 1000) {
        t->tick(now, s.send(), s.fail());
    }
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->resolve(ip(3), pkt(2), 4001).action, neigh_action::queued_send_request);
}

TEST(Neigh, IdleEntriesExpireAndTheIndexSurvivesDeletions)
{
    neigh_config cfg;
    cfg.max_entries = 1024;
    cfg.gc_sweep = 1024;
    auto t = make(cfg);
    sink s;
    auto a = [](uint32_t i) { return rte_cpu_to_be_32(ipv4(10, 0, 0, 0) + 1 + i * 7919); };
    for (uint32_t i = 0; i < 1000; i++) {
        ASSERT_EQ(t->on_arp(a(i), mac(uint8_t(i)), arp_kind::request_to_us, 0, s.drain()), arp_outcome::created);
    }
    EXPECT_EQ(t->size(), 1000u);
    // Keep every third one in use; the rest go idle past gc_stale_ms.
    for (uint32_t i = 0; i < 1000; i += 3) {
        t->resolve(a(i), nullptr, 59'000);
    }
    t->tick(60'000, s.send(), s.fail());
    for (uint32_t i = 0; i < 1000; i++) {
        auto v = t->find(a(i));
        ASSERT_EQ(bool(v), i % 3 == 0) << i;
        if (v) {
            EXPECT_TRUE(same(v->mac, mac(uint8_t(i))));
        }
    }
    EXPECT_EQ(t->size(), 334u);
    EXPECT_EQ(t->counters().expired, 666u);
    // The freed entries are reusable.
    for (uint32_t i = 1; i < 1000; i += 3) {
        EXPECT_EQ(t->resolve(a(i), nullptr, 60'001).action, neigh_action::queued_send_request);
    }
}

TEST(Neigh, CallbacksMayResolveAgain)
{
    auto t = make();
    t->resolve(ip(1), pkt(0), 0);
    std::vector<neigh_action> seen;
    t->on_arp(ip(1), mac(1), arp_kind::reply_to_us, 1,
              [&](void*, const rte_ether_addr&) { seen.push_back(t->resolve(ip(1), pkt(1), 1).action); });
    EXPECT_EQ(seen, std::vector<neigh_action>{neigh_action::mac_known});
    t->resolve(ip(2), pkt(0), 0);
    seen.clear();
    for (uint32_t now = 1000; now <= 3000; now += 1000) {
        t->tick(now, [](rte_be32_t) {}, [&](void*) { seen.push_back(t->resolve(ip(2), pkt(1), now).action); });
    }
    EXPECT_EQ(seen, std::vector<neigh_action>{neigh_action::failed});
}

TEST(Neigh, CountersVisitEveryNameOnce)
{
    auto t = make();
    t->resolve(ip(1), pkt(0), 0);
    std::vector<std::string> names;
    uint64_t misses = 0;
    t->counters().visit([&](const char* name, const char* desc, uint64_t v) {
        names.push_back(name);
        EXPECT_NE(std::string(desc), "");
        if (std::string(name) == "misses") {
            misses = v;
        }
    });
    EXPECT_EQ(names.size(), sizeof(fg::route::neigh_counters) / sizeof(uint64_t));
    EXPECT_EQ(names.front(), "hits");
    EXPECT_EQ(misses, 1u);
}

TEST(Neigh, ConfigIsValidated)
{
    std::string err;
    neigh_config cfg;
    cfg.max_entries = 0;
    EXPECT_EQ(neigh_table::create(cfg, err), nullptr);
    EXPECT_NE(err.find("max_entries"), std::string::npos);
    cfg = {};
    cfg.queue_len = 0;
    EXPECT_EQ(neigh_table::create(cfg, err), nullptr);
    cfg = {};
    cfg.retrans_ms = 0;
    EXPECT_EQ(neigh_table::create(cfg, err), nullptr);
}

} // namespace
