// App option parsing: command line, INI (--config), errors that name the option.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/options.hh"

namespace fg::apps {
namespace {

std::vector<std::string> v(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

TEST(AppOptions, CommonOptionsParse)
{
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    ASSERT_TRUE(parse(rows, v({"--ip", "198.18.0.2/24", "--ip=198.18.1.0-198.18.1.9/16", "--gw", "198.18.0.1",
                               "--arp", "198.18.0.9=02:00:00:00:00:09", "--mtu", "1400", "--duration", "2.5",
                               "--json", "/tmp/x.json", "--resolve", "198.18.0.1"}),
                      e))
        << e;
    ASSERT_EQ(o.ips.size(), 2u);
    EXPECT_EQ(o.ips[1].last - o.ips[1].first, 9u);
    EXPECT_EQ(o.gateway, 0xC6120001u);
    ASSERT_EQ(o.static_arp.size(), 1u);
    EXPECT_EQ(o.static_arp[0].mac.addr_bytes[5], 9);
    EXPECT_EQ(o.mtu, 1400);
    EXPECT_DOUBLE_EQ(o.duration_s, 2.5);
    EXPECT_EQ(o.json_path, "/tmp/x.json");
    ASSERT_EQ(o.resolve.size(), 1u);
}

TEST(AppOptions, ErrorsNameTheOption)
{
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    EXPECT_FALSE(parse(rows, v({"--mtu", "100"}), e));
    EXPECT_NE(e.find("--mtu"), std::string::npos) << e;
    EXPECT_FALSE(parse(rows, v({"--ip", "300.1.1.1/24"}), e));
    EXPECT_NE(e.find("--ip"), std::string::npos) << e;
    EXPECT_FALSE(parse(rows, v({"--nosuch"}), e));
    EXPECT_NE(e.find("nosuch"), std::string::npos) << e;
    EXPECT_FALSE(parse(rows, v({"--gw"}), e));
    EXPECT_NE(e.find("needs a value"), std::string::npos) << e;
    EXPECT_FALSE(parse(rows, v({"--help=1"}), e));
    EXPECT_FALSE(parse(rows, v({"stray"}), e));
    EXPECT_FALSE(parse(rows, v({"--arp", "198.18.0.9"}), e));
}

TEST(AppOptions, IniFileThenCommandLineWins)
{
    const std::string path = "/tmp/fg-options-test-" + std::to_string(::getpid()) + ".ini";
    {
        std::ofstream f(path);
        f << "[floodgate]\nip = 198.18.0.2/24\nip = 198.18.2.1/24\nmtu = 9000\nhelp = no\n";
    }
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    ASSERT_TRUE(parse(rows, v({"--mtu", "1500", "--config", path.c_str()}), e)) << e;
    EXPECT_EQ(o.ips.size(), 2u);
    EXPECT_EQ(o.mtu, 1500); // the command line wins
    EXPECT_FALSE(o.help);
    std::remove(path.c_str());
}

TEST(AppOptions, IniErrors)
{
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    EXPECT_FALSE(parse(rows, v({"--config", "/nonexistent/fg.ini"}), e));
    EXPECT_NE(e.find("cannot read"), std::string::npos) << e;
    const std::string path = "/tmp/fg-options-bad-" + std::to_string(::getpid()) + ".ini";
    {
        std::ofstream f(path);
        f << "[floodgate]\nbogus = 1\n";
    }
    EXPECT_FALSE(parse(rows, v({"--config", path.c_str()}), e));
    EXPECT_NE(e.find("bogus"), std::string::npos) << e;
    {
        std::ofstream f(path);
        f << "[other]\nip = 198.18.0.2/24\n";
    }
    EXPECT_FALSE(parse(rows, v({"--config", path.c_str()}), e));
    EXPECT_NE(e.find("[floodgate]"), std::string::npos) << e;
    std::remove(path.c_str());
}

TEST(AppOptions, AppArgsAreWhatFollowsTheDashes)
{
    const char* argv[] = {"app", "-l", "0", "--", "--ip", "1.2.3.4/8"};
    auto a = app_args(6, const_cast<char**>(argv));
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0], "--ip");
    const char* argv2[] = {"app", "-l", "0"};
    EXPECT_TRUE(app_args(3, const_cast<char**>(argv2)).empty());
}

TEST(AppOptions, U64OptionBounds)
{
    uint64_t got = 0;
    std::vector<option> rows{u64_option("n", "N", 2, 10, [&](uint64_t x) { got = x; })};
    std::string e;
    EXPECT_TRUE(parse(rows, v({"--n", "7"}), e));
    EXPECT_EQ(got, 7u);
    EXPECT_FALSE(parse(rows, v({"--n", "11"}), e));
    EXPECT_FALSE(parse(rows, v({"--n", "1"}), e));
    EXPECT_FALSE(parse(rows, v({"--n", "x"}), e));
}

} // namespace
} // namespace fg::apps

namespace fg::apps {
namespace {

TEST(AppOptions, CaptureOptionsAndIdLists)
{
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    ASSERT_TRUE(parse(rows, {"--pcap", "/tmp/x.pcapng", "--pcap-snaplen", "96", "--pcap-max-mb", "0.5",
                             "--pcap-lcores", "0,2-3"},
                      e))
        << e;
    EXPECT_EQ(o.pcap_path, "/tmp/x.pcapng");
    EXPECT_EQ(o.pcap_snaplen, 96u);
    EXPECT_DOUBLE_EQ(o.pcap_max_mb, 0.5);
    EXPECT_EQ(o.pcap_lcores, (std::vector<unsigned>{0, 2, 3}));
    EXPECT_FALSE(parse(rows, {"--pcap-snaplen", "10"}, e));
    EXPECT_NE(e.find("--pcap-snaplen"), std::string::npos) << e;
    std::vector<unsigned> ids;
    EXPECT_FALSE(parse_id_list("3-1", 127, ids, e));
    EXPECT_FALSE(parse_id_list("", 127, ids, e));
    EXPECT_FALSE(parse_id_list("1,x", 127, ids, e));
    EXPECT_FALSE(parse_id_list("200", 127, ids, e));
    EXPECT_TRUE(parse_id_list("5", 127, ids, e));
    EXPECT_EQ(ids, (std::vector<unsigned>{5}));
}

TEST(AppOptions, VersionAndBenchRows)
{
    common_options o;
    auto rows = common_option_rows(o);
    std::string e;
    ASSERT_TRUE(parse(rows, {"--version"}, e)) << e;
    EXPECT_TRUE(o.version);
    bench_options b;
    auto br = bench_option_rows(b);
    ASSERT_TRUE(parse(br, {"--seconds", "2", "--ports", "vhost", "--json", "/tmp/b.json"}, e)) << e;
    EXPECT_DOUBLE_EQ(b.seconds, 2);
    EXPECT_EQ(b.ports, pair_kind::vhost);
    EXPECT_EQ(b.json, "/tmp/b.json");
    EXPECT_FALSE(parse(br, {"--ports", "tap"}, e));
    EXPECT_NE(e.find("expected ring or vhost"), std::string::npos) << e;
}

} // namespace
} // namespace fg::apps
