// lib/net micro benchmarks: classify() on the frames the hot loop sees most
// (SYN, ACK, ARP request), with checksums verified in software (ring ports,
// tap: no rx offload flags) and with the NIC's GOOD flags; building a SYN-ACK
// in place in the SYN's buffer; parsing a Linux SYN's options.
// Run: taskset -c 1 build/bench/bench-parse
#include <benchmark/benchmark.h>

#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf_core.h>

#include "net/arp.hh"
#include "net/classify.hh"
#include "net/ether.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"

namespace {

using namespace fg::net;

constexpr rte_ether_addr mac_a{{0x02, 0, 0, 0, 0, 0x01}};
constexpr rte_ether_addr mac_b{{0x02, 0, 0, 0, 0, 0x02}};
const fg::tuple4 client = fg::make_tuple4(RTE_IPV4(198, 18, 0, 2), 40000, RTE_IPV4(198, 18, 0, 1), 80);

tcp_options linux_syn_options()
{
    tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = 0x01020304;
    o.has_wscale = true;
    o.wscale = 7;
    return o;
}

struct frame {
    alignas(64) uint8_t b[128];
    uint32_t len = 0;
};

frame make_frame(int which)
{
    frame f;
    const tcp_options o = linux_syn_options();
    switch (which) {
    case 0: // SYN with Linux's options (74 bytes)
        f.len = make_tcp_segment(f.b, mac_b, mac_a, client, 0x11223344, 0, RTE_TCP_SYN_FLAG, 64240, &o,
                                 cksum_mode::software);
        break;
    case 1: // bare ACK (54 bytes)
        f.len = make_tcp_segment(f.b, mac_b, mac_a, client, 0x11223345, 0xaabbccde, RTE_TCP_ACK_FLAG, 502, nullptr,
                                 cksum_mode::software);
        break;
    default: // ARP request (42 bytes)
        f.len = make_arp_request(f.b, mac_b, client.laddr, client.raddr);
        break;
    }
    return f;
}

// Arg 0: 0 SYN, 1 ACK, 2 ARP request. Arg 1: 0 = no rx offload flags
// (software checksums), 1 = NIC says IP and L4 checksums GOOD.
void BM_Classify(benchmark::State& state)
{
    const frame f = make_frame(int(state.range(0)));
    const uint64_t flags = state.range(1) != 0 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
    static const char* names[] = {"syn", "ack", "arp"};
    state.SetLabel(std::string(names[state.range(0)]) + (flags != 0 ? "/nic-cksum" : "/sw-cksum"));
    pkt_info info;
    drop why = drop::count;
    for (auto _ : state) {
        const uint8_t* p = f.b;
        benchmark::DoNotOptimize(p);
        const pkt_kind k = classify(p, f.len, flags, info, why);
        benchmark::DoNotOptimize(k);
        benchmark::DoNotOptimize(info);
        if (k == pkt_kind::drop) {
            state.SkipWithError("frame dropped");
            break;
        }
    }
}
BENCHMARK(BM_Classify)->ArgsProduct({{0, 1, 2}, {0, 1}});

// SYN-ACK written over the SYN it answers (MACs and tuple read from that
// buffer first). Arg: 0 software checksums, 1 offload (pseudo-header only).
void BM_MakeSynAck(benchmark::State& state)
{
    frame f = make_frame(0);
    pkt_info info;
    drop why = drop::count;
    if (classify(f.b, f.len, 0, info, why) != pkt_kind::tcp) {
        state.SkipWithError("SYN dropped");
        return;
    }
    const cksum_mode mode = state.range(0) != 0 ? cksum_mode::offload : cksum_mode::software;
    state.SetLabel(mode == cksum_mode::offload ? "offload" : "software");
    tcp_options o = linux_syn_options();
    o.ts_ecr = 0x01020304;
    uint32_t isn = 0x5eed;
    for (auto _ : state) {
        uint8_t* p = f.b;
        benchmark::DoNotOptimize(p);
        const rte_ether_hdr* eth = eth_hdr(p);
        const uint32_t n = make_tcp_segment(p, eth->dst_addr, eth->src_addr, info.tuple, isn++, info.seq + 1,
                                            RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65160, &o, mode);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_MakeSynAck)->Arg(0)->Arg(1);

// Arg 0: the 20 option bytes of a Linux SYN (MSS, SACK_PERM, TS, NOP, WS),
// which parse_tcp_options() recognises whole. Arg 1: a Windows SYN (MSS, NOP,
// WS, NOP, NOP, SACK_PERM), which takes the general option-by-option loop.
// Arg 2: NOP, NOP, TS, as on every later segment with timestamps.
void BM_ParseTcpOptions(benchmark::State& state)
{
    uint8_t opts[40];
    uint32_t n = 0;
    if (state.range(0) == 0) {
        n = write_tcp_options(opts, linux_syn_options());
        state.SetLabel("linux-syn");
    } else if (state.range(0) == 1) {
        const uint8_t windows[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
        n = sizeof(windows);
        std::memcpy(opts, windows, n);
        state.SetLabel("windows-syn");
    } else {
        tcp_options ts;
        ts.has_ts = true;
        ts.ts_val = 1;
        ts.ts_ecr = 2;
        n = write_tcp_options(opts, ts);
        state.SetLabel("nop-nop-ts");
    }
    tcp_options o;
    for (auto _ : state) {
        const uint8_t* p = opts;
        benchmark::DoNotOptimize(p);
        parse_tcp_options(p, n, true, o);
        benchmark::DoNotOptimize(o);
    }
}
BENCHMARK(BM_ParseTcpOptions)->Arg(0)->Arg(1)->Arg(2);

} // namespace

BENCHMARK_MAIN();
