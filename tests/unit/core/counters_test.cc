// The counter registry: every block registered once, with a description per
// counter; flat keys (telemetry, report top level) never collide; a
// counter_set reads and subtracts by block.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/counters.hh"

namespace fg::core {
namespace {

TEST(CounterRegistry, BlocksCoverEveryList)
{
    unsigned total = 0;
    unsigned offset = 0;
    for (const block_info& b : blocks()) {
        EXPECT_EQ(b.offset, offset) << b.name;
        offset += b.n;
        total += b.n;
        EXPECT_GT(b.n, 0u) << b.name;
    }
    EXPECT_EQ(total, n_all_counters);
    EXPECT_EQ(block_of(block::loop).n, n_core_counters);
    EXPECT_EQ(block_of(block::drops).n, net::n_drops);
    EXPECT_EQ(block_of(block::tcp).n, tcp::n_counters);
}

TEST(CounterRegistry, NamesAndDescriptions)
{
    std::set<std::string> flat;
    std::set<std::string> block_names;
    for (const block_info& b : blocks()) {
        EXPECT_TRUE(block_names.insert(b.name).second) << b.name;
        std::set<std::string> in_block;
        for (unsigned i = 0; i < b.n; i++) {
            const std::string name = b.names[i];
            EXPECT_FALSE(name.empty());
            EXPECT_GT(std::string(b.descs[i]).size(), 5u) << b.name << "/" << name << ": no description";
            EXPECT_TRUE(in_block.insert(name).second) << b.name << "/" << name << " twice";
            // Flat keys: telemetry always, report top level for flat blocks.
            EXPECT_TRUE(flat.insert(flat_key(b, i)).second) << "flat key " << flat_key(b, i) << " twice";
        }
    }
    // Report members that sit next to the flat counters must not be counter names.
    for (const char* k : {"app", "version", "elapsed_s", "exit", "series", "drops", "neigh", "table",
                          "dropped_malformed", "dropped_unsupported", "connections_in_use", "tried", "failed",
                          "error_rate", "pcap", "resolved", "responder"}) {
        EXPECT_EQ(flat.count(k), 0u) << k;
    }
    EXPECT_EQ(flat_key(block_of(block::drops), unsigned(net::drop::bad_ip_cksum)), "drop_bad_ip_cksum");
}

TEST(CounterRegistry, SetReadsAndSubtractsByBlock)
{
    counter_set a;
    counter_set b;
    a.at(block::tcp, unsigned(tcp::ctr::established)) = 10;
    b.at(block::tcp, unsigned(tcp::ctr::established)) = 25;
    a.at(block::drops, unsigned(net::drop::bad_tcp_cksum)) = 3;
    b.at(block::drops, unsigned(net::drop::bad_tcp_cksum)) = 2; // went back (a new run): 0, not a wrap
    b.at(block::loop, unsigned(ctr::rx_packets)) = 7;
    const counter_set d = b.since(a);
    EXPECT_EQ(d[tcp::ctr::established], 15u);
    EXPECT_EQ(d[net::drop::bad_tcp_cksum], 0u);
    EXPECT_EQ(d[ctr::rx_packets], 7u);
    unsigned seen = 0;
    uint64_t sum = 0;
    d.visit([&](const block_info&, unsigned, uint64_t v) {
        seen++;
        sum += v;
    });
    EXPECT_EQ(seen, n_all_counters);
    EXPECT_EQ(sum, 22u);
}

} // namespace
} // namespace fg::core
