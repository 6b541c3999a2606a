// Replays random and mutated frames through classify() and the builders that
// answer them, checking the invariants of tests/fuzz/check_frame.hh: the
// fuzzer's job in miniature, deterministic, so it runs in every CI build
// without clang. Also replays the fuzz seed corpus (FG_NET_CORPUS directory).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "../../fuzz/check_frame.hh"
#include "frames.hh"

namespace fg::net::test {
namespace {

constexpr int iterations = 200000; // ~0.3 s in a release build; reaches every drop reason

// Checks a frame from a guarded page and from an exact-size heap copy.
void check_both(const std::vector<uint8_t>& f, uint64_t flags, check::stats& st)
{
    static guarded_page page;
    const char* err = check::check_frame(page.place(f.data(), uint32_t(f.size())), uint32_t(f.size()), flags, &st);
    ASSERT_EQ(err, nullptr) << err;
    std::unique_ptr<uint8_t[]> heap(new uint8_t[f.empty() ? 1 : f.size()]);
    if (!f.empty()) {
        std::memcpy(heap.get(), f.data(), f.size());
    }
    err = check::check_frame(heap.get(), uint32_t(f.size()), flags);
    ASSERT_EQ(err, nullptr) << err;
}

uint16_t be16_at(const std::vector<uint8_t>& f, size_t off)
{
    return uint16_t((f[off] << 8) | f[off + 1]);
}

// Makes a mutated frame's checksums right again where its headers allow, so
// that mutations also reach the checks behind the checksum checks.
void fix_checksums(std::vector<uint8_t>& f, bool ip, bool l4)
{
    if (f.size() < 34 || be16_at(f, 12) != 0x0800 || f[14] != 0x45) {
        return;
    }
    const uint16_t total = be16_at(f, 16);
    if (l4 && total <= f.size() - 14) {
        if (f[23] == IPPROTO_TCP && total >= 40) {
            fix_tcp(f.data());
        } else if (f[23] == IPPROTO_ICMP && total >= 28) {
            fix_icmp(f.data());
        }
    }
    if (ip) {
        fix_ip(f.data());
    }
}

std::vector<uint8_t> mutate(const std::vector<uint8_t>& seed, std::mt19937& rng)
{
    static const uint8_t interesting[] = {0,    1,    2,    3,    4,    5,    6,    8,    10,   0x11, 0x14,
                                          0x28, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x7f, 0x80, 0xa0, 0xe0, 0xf0,
                                          0xff, 0x86, 0xdd, 0x81, 0x20, 0x3f};
    std::vector<uint8_t> f = seed;
    const int n = 1 + int(rng() % 4);
    for (int i = 0; i < n && !f.empty(); i++) {
        const size_t hdr = f.size() < 74 ? f.size() : 74;
        switch (rng() % 8) {
        case 0:
            f[rng() % f.size()] ^= uint8_t(1u << (rng() % 8));
            break;
        case 1:
            f[rng() % hdr] = interesting[rng() % sizeof(interesting)];
            break;
        case 2:
            f[rng() % hdr] = uint8_t(rng());
            break;
        case 3:
            f.resize(rng() % (f.size() + 1));
            break;
        case 4:
            for (uint32_t j = rng() % 64; j > 0; j--) {
                f.push_back(uint8_t(rng()));
            }
            break;
        case 5:
            if (f.size() >= 18) {
                const uint16_t total = uint16_t(rng() % (f.size() + 8));
                f[16] = uint8_t(total >> 8);
                f[17] = uint8_t(total);
            }
            break;
        case 6:
            if (f.size() >= 47) {
                f[46] = uint8_t((rng() % 16) << 4);
            }
            break;
        default:
            if (f.size() > 54) {
                f[54 + rng() % (f.size() - 54)] = interesting[rng() % sizeof(interesting)];
            }
            break;
        }
    }
    fix_checksums(f, (rng() & 1) != 0, (rng() & 1) != 0);
    return f;
}

uint64_t random_flags(std::mt19937& rng)
{
    static const uint64_t ip[] = {0, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                                  RTE_MBUF_F_RX_IP_CKSUM_NONE};
    static const uint64_t l4[] = {0, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD,
                                  RTE_MBUF_F_RX_L4_CKSUM_NONE};
    if ((rng() & 1) != 0) {
        return 0; // ring ports, tap: no offload information
    }
    return ip[rng() % 4] | l4[rng() % 4];
}

// scapy_syn with IP options `o` (a multiple of 4 bytes), checksums right.
std::vector<uint8_t> with_ip_options(const std::vector<uint8_t>& o)
{
    std::vector<uint8_t> f = scapy_syn;
    f.insert(f.begin() + 34, o.begin(), o.end());
    f[14] = uint8_t(0x45 + o.size() / 4);
    f[16] = uint8_t((f.size() - 14) >> 8);
    f[17] = uint8_t(f.size() - 14);
    fix_ip(f.data());
    return f;
}

TEST(Corpus, MutatedFramesKeepEveryInvariant)
{
    // A SYN with a record-route option and one with a loose source route, so
    // mutations reach the IP-option checks (and every reason they drop for).
    const std::vector<uint8_t> syn_rr = with_ip_options({7, 7, 4, 0, 0, 0, 0, 0});
    const std::vector<uint8_t> syn_lsrr = with_ip_options({131, 7, 4, 198, 18, 0, 9, 0});
    const std::vector<uint8_t>* seeds[] = {&scapy_syn,         &scapy_synack,    &scapy_synack_mss_only,
                                           &scapy_rst_for_syn, &scapy_arp_request, &scapy_arp_reply,
                                           &scapy_ping,        &scapy_pong,      &scapy_ack_hello,
                                           &syn_rr,            &syn_lsrr};
    std::mt19937 rng(20240601);
    check::stats st;
    for (int i = 0; i < iterations; i++) {
        const std::vector<uint8_t> f = mutate(*seeds[rng() % std::size(seeds)], rng);
        check_both(f, random_flags(rng), st);
        if (HasFatalFailure()) {
            return;
        }
    }
    // The mutations reach every outcome, so each invariant above was exercised.
    for (unsigned k = 0; k < 4; k++) {
        EXPECT_GT(st.kinds[k], 0u) << pkt_kind_name(pkt_kind(k));
    }
    for (unsigned d = 0; d < n_drops; d++) {
        EXPECT_GT(st.drops[d], 0u) << drop_name(drop(d));
    }
}

TEST(Corpus, RandomBytesKeepEveryInvariant)
{
    // Pure noise behind a valid Ethernet + IPv4 / ARP prefix of random length.
    std::mt19937 rng(99);
    check::stats st;
    for (int i = 0; i < iterations / 4; i++) {
        std::vector<uint8_t> f(rng() % 128);
        for (auto& b : f) {
            b = uint8_t(rng());
        }
        const std::vector<uint8_t>& seed = (rng() & 1) != 0 ? scapy_syn : scapy_arp_request;
        const size_t keep = std::min(f.size(), size_t(rng() % (seed.size() + 1)));
        std::copy(seed.begin(), seed.begin() + keep, f.begin());
        check_both(f, random_flags(rng), st);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(Corpus, FuzzSeedCorpusReplays)
{
    const char* dir = std::getenv("FG_NET_CORPUS");
    if (dir == nullptr) {
        GTEST_SKIP() << "FG_NET_CORPUS not set (meson test sets it)";
    }
    check::stats st;
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (!e.is_regular_file()) {
            continue;
        }
        std::ifstream in(e.path(), std::ios::binary);
        const std::vector<uint8_t> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (f.size() > check::max_frame) {
            continue;
        }
        for (uint64_t flags : {uint64_t(0), uint64_t(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD)}) {
            check_both(f, flags, st);
        }
        files++;
    }
    EXPECT_GT(files, 0u);
    EXPECT_GT(st.kinds[unsigned(pkt_kind::tcp)], 0u);
    EXPECT_GT(st.kinds[unsigned(pkt_kind::arp)], 0u);
    EXPECT_GT(st.kinds[unsigned(pkt_kind::icmp_echo)], 0u);
}

} // namespace
} // namespace fg::net::test
