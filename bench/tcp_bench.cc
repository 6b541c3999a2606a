// lib/tcp engine micro benchmarks, per received segment, on real mbufs:
//   BM_CookieSynAck      SYN -> SYN-cookie SYN-ACK built in place (no state)
//   BM_RequestSynAck     SYN -> request entry (pool, table, timer) + SYN-ACK in place
//   BM_ThirdAckAccept    third ACK -> ESTABLISHED + accepted event on the accept ring
//   BM_CookieAckAccept   cookie ACK -> connection from the cookie + accept
//   BM_RestoreSynFrame   baseline of BM_CookieSynAck: only re-writing the 74-byte SYN
// Software checksums (as on ring ports and taps), timestamps negotiated (Linux
// SYN options). Frames are prepared outside the timed region except where
// the benchmark re-uses its own output (cookie SYN-ACKs are turned back into
// the SYN by copying 74 bytes: subtract BM_RestoreSynFrame). Transmitted
// frames are taken from the engine's pkt_out before it would flush (the tx
// ring itself is not measured).
// EAL (--no-huge) is started by main(); run: taskset -c 1 build/bench/bench-tcp
#include <benchmark/benchmark.h>

#include <sched.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "net/classify.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"
#include "table/listener_table.hh"
#include "tcp/engine.hh"
#include "tcp/listener.hh"

namespace {

using namespace fg;
using namespace fg::tcp;

rte_mempool* g_pool = nullptr;

constexpr rte_ether_addr mac_c{{0x02, 0, 0, 0, 0, 0x02}};
constexpr rte_ether_addr mac_s{{0x02, 0, 0, 0, 0, 0x01}};
constexpr uint32_t ip_s = (198u << 24) | (18u << 16) | 1u;
constexpr uint32_t batch = 4096; // segments prepared per untimed set-up round

net::tcp_options linux_syn_options()
{
    net::tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = 0x01020304;
    o.has_wscale = true;
    o.wscale = 7;
    return o;
}

// The engine's view of client i (198.19.x.y : port, distinct for every i < 2^28).
tuple4 client(uint32_t i)
{
    const uint32_t addr = (198u << 24) | (19u << 16) | ((i >> 12) & 0xffff);
    return make_tuple4(ip_s, 80, addr, uint16_t(10000 + (i & 0xfff)));
}

// One engine with a listener on 198.18.0.1:80.
struct rig {
    table::listener_table lt;
    listener_registry reg;
    syncookie cookies = syncookie::random();
    isn_generator isn = isn_generator::random();
    pkt_out out;
    rte_ring* ev = nullptr;
    engine eng;
    std::unique_ptr<listener> lst;
    std::vector<rte_mbuf*> taken; // frames the engine transmitted, freed untimed

    explicit rig(syncookie_mode mode, uint32_t capacity = 1u << 20)
    {
        lt.init(4);
        out.pool = g_pool;
        static int n = 0;
        ev = rte_ring_create_elem(("bev" + std::to_string(n++)).c_str(), sizeof(event), 1u << 16, SOCKET_ID_ANY,
                                  RING_F_SP_ENQ | RING_F_EXACT_SZ);
        engine_config cfg;
        cfg.capacity = capacity;
        cfg.listeners = &lt;
        cfg.registry = &reg;
        cfg.cookies = &cookies;
        cfg.isn = &isn;
        cfg.event_ring = ev;
        cfg.out = &out;
        cfg.src_mac = mac_s;
        cfg.dst_mac = mac_c;
        std::string err;
        if (!eng.init(cfg, 1000, err)) {
            std::fprintf(stderr, "engine init: %s\n", err.c_str());
            std::abort();
        }
        listen_options lo;
        lo.backlog = 1u << 20;
        lo.syn_backlog = 1u << 22;
        lo.cookies = mode;
        int rc = 0;
        lst = listen(lt, reg, rte_cpu_to_be_32(ip_s), rte_cpu_to_be_16(80), lo, 1, rc, err);
        if (lst == nullptr) {
            std::fprintf(stderr, "listen: %s\n", err.c_str());
            std::abort();
        }
    }
    ~rig()
    {
        drain();
        free_taken();
        unlisten(lt, reg, *lst, nullptr);
        rte_ring_free(ev);
    }
    // Takes what the engine pushed (call before 32 accumulate).
    FG_ALWAYS_INLINE void drain()
    {
        for (uint16_t i = 0; i < out.n; i++) {
            taken.push_back(out.pkts[i]);
        }
        out.n = 0;
    }
    void free_taken()
    {
        if (!taken.empty()) {
            rte_pktmbuf_free_bulk(taken.data(), unsigned(taken.size()));
        }
        taken.clear();
    }
    // A frame from the client of t (the engine's view).
    rte_mbuf* frame(const tuple4& t, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o,
                    net::pkt_info& pi)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        if (m == nullptr) {
            std::fprintf(stderr, "mbuf pool empty\n");
            std::abort();
        }
        const tuple4 from_client{t.raddr, t.laddr, t.rport, t.lport};
        const uint32_t len = net::make_tcp_segment(rte_pktmbuf_mtod(m, uint8_t*), mac_c, mac_s, from_client, seq, ack,
                                                   flags, 64240, o, net::cksum_mode::software);
        m->data_len = uint16_t(len);
        m->pkt_len = len;
        net::drop why;
        net::classify(rte_pktmbuf_mtod(m, const uint8_t*), len, 0, pi, why);
        return m;
    }
};

// 16 cookie SYNs answered again and again in place: one by one through
// input() (burst = false), or through input_burst() 16 at a time (the test
// double's tx batch must not fill), as the lcore loop hands them over: one
// lookup_burst, and the cookies and timestamp offsets of the whole burst
// hashed lane by lane (FG_SIMD picks scalar / avx2 / avx512).
void cookie_synacks(benchmark::State& state, bool burst)
{
    rig r(syncookie_mode::always);
    constexpr uint32_t n = 16;
    const net::tcp_options o = linux_syn_options();
    rte_mbuf* m[n];
    net::pkt_info pi[n];
    uint8_t tmpl[n][128];
    for (uint32_t i = 0; i < n; i++) {
        m[i] = r.frame(client(i), th_syn, 1000 + i, 0, &o, pi[i]);
        std::memcpy(tmpl[i], rte_pktmbuf_mtod(m[i], uint8_t*), m[i]->data_len);
    }
    const uint16_t len = m[0]->data_len;
    for (auto _ : state) {
        for (uint32_t i = 0; i < n; i++) {
            std::memcpy(rte_pktmbuf_mtod(m[i], uint8_t*), tmpl[i], len); // the SYN again
            m[i]->data_len = len;
            m[i]->pkt_len = len;
            if (!burst) {
                r.eng.input(m[i], pi[i]);
            }
        }
        if (burst) {
            r.eng.input_burst(m, pi, n);
        }
        r.out.n = 0; // the SYN-ACKs are the same mbufs: used again next round
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
    state.counters["cookies"] = double(r.eng.counters()[ctr::cookies_sent]);
    rte_pktmbuf_free_bulk(m, n);
}

void BM_CookieSynAck(benchmark::State& state) { cookie_synacks(state, false); }
BENCHMARK(BM_CookieSynAck);

void BM_CookieSynAckBurst(benchmark::State& state) { cookie_synacks(state, true); }
BENCHMARK(BM_CookieSynAckBurst);

void BM_RestoreSynFrame(benchmark::State& state)
{
    rig r(syncookie_mode::always, 64);
    constexpr uint32_t n = 16;
    const net::tcp_options o = linux_syn_options();
    rte_mbuf* m[n];
    net::pkt_info pi[n];
    uint8_t tmpl[n][128];
    for (uint32_t i = 0; i < n; i++) {
        m[i] = r.frame(client(i), th_syn, 1000 + i, 0, &o, pi[i]);
        std::memcpy(tmpl[i], rte_pktmbuf_mtod(m[i], uint8_t*), m[i]->data_len);
    }
    const uint16_t len = m[0]->data_len;
    for (auto _ : state) {
        for (uint32_t i = 0; i < n; i++) {
            std::memcpy(rte_pktmbuf_mtod(m[i], uint8_t*), tmpl[i], len);
            m[i]->data_len = len;
            m[i]->pkt_len = len;
            benchmark::DoNotOptimize(m[i]);
        }
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
    rte_pktmbuf_free_bulk(m, n);
}
BENCHMARK(BM_RestoreSynFrame);

// Prepared SYNs of clients [base, base + batch).
void make_syns(rig& r, uint32_t base, std::vector<rte_mbuf*>& m, std::vector<net::pkt_info>& pi)
{
    const net::tcp_options o = linux_syn_options();
    m.resize(batch);
    pi.resize(batch);
    for (uint32_t i = 0; i < batch; i++) {
        m[i] = r.frame(client(base + i), th_syn, 1000, 0, &o, pi[i]);
    }
}

// Feeds segments to the engine, taking its output as it goes: one input()
// per segment, or input_burst() of 16 (the lcore loop's way: one
// lookup_burst with prefetches per burst).
FG_ALWAYS_INLINE void feed(rig& r, std::vector<rte_mbuf*>& m, std::vector<net::pkt_info>& pi, bool burst = false)
{
    constexpr uint32_t b = 16; // < pkt_out::batch: the test double never flushes
    if (burst) {
        for (uint32_t i = 0; i < batch; i += b) {
            r.eng.input_burst(&m[i], &pi[i], b);
            r.drain();
        }
        return;
    }
    for (uint32_t i = 0; i < batch; i++) {
        r.eng.input(m[i], pi[i]);
        if (r.out.n >= b) {
            r.drain();
        }
    }
    r.drain();
}

// Frees every connection of the rig (untimed): abort commands for the
// accepted, RST for requests.
void reset_all(rig& r, uint32_t base)
{
    event e[64];
    unsigned k;
    while ((k = r.lst->accept_burst(e, 64)) != 0) {
        for (unsigned i = 0; i < k; i++) {
            cmd c{};
            c.type = cmd_type::abort;
            c.h = e[i].h;
            r.eng.command(c);
            r.drain();
        }
    }
    for (uint32_t i = 0; i < batch; i++) {
        const tuple4 t = client(base + i);
        const conn* c = r.eng.find(t);
        if (c != nullptr && c->st == state::syn_received) {
            net::pkt_info pi;
            rte_mbuf* m = r.frame(t, th_rst, c->rcv_nxt, 0, nullptr, pi);
            r.eng.input(m, pi);
            r.drain();
        }
    }
    r.free_taken();
}

void BM_RequestSynAck(benchmark::State& state)
{
    rig r(syncookie_mode::automatic);
    std::vector<rte_mbuf*> m;
    std::vector<net::pkt_info> pi;
    uint32_t base = 0;
    uint64_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        reset_all(r, base - batch);
        make_syns(r, base, m, pi);
        state.ResumeTiming();
        feed(r, m, pi, state.range(0) != 0);
        n += batch;
        base += batch;
    }
    reset_all(r, base - batch);
    state.SetItemsProcessed(int64_t(n));
    state.counters["requests"] = double(r.eng.counters()[ctr::requests_created]);
}
BENCHMARK(BM_RequestSynAck)->Arg(0)->Arg(1)->ArgName("burst")->Unit(benchmark::kMicrosecond);

// Third ACKs for the SYN-ACKs the rig just sent (in `taken`, in order).
void make_acks(rig& r, uint32_t base, std::vector<rte_mbuf*>& m, std::vector<net::pkt_info>& pi)
{
    for (uint32_t i = 0; i < batch; i++) {
        const rte_mbuf* sa = r.taken[i];
        net::pkt_info spi;
        net::drop why;
        net::classify(rte_pktmbuf_mtod(sa, const uint8_t*), sa->data_len, 0, spi, why);
        net::tcp_options so;
        net::parse_tcp_options(rte_pktmbuf_mtod(sa, const uint8_t*) + spi.opt_off, spi.opt_len, true, so);
        net::tcp_options a;
        a.has_ts = true;
        a.ts_val = 0x01020305;
        a.ts_ecr = so.ts_val;
        m[i] = r.frame(client(base + i), th_ack, 1001, spi.seq + 1, &a, pi[i]);
    }
    r.free_taken();
}

void run_accept(benchmark::State& state, syncookie_mode mode, bool burst)
{
    rig r(mode);
    std::vector<rte_mbuf*> m;
    std::vector<net::pkt_info> pi;
    uint32_t base = 0;
    uint64_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        reset_all(r, base - batch);
        make_syns(r, base, m, pi);
        feed(r, m, pi); // SYN-ACKs (requests or cookies), untimed
        make_acks(r, base, m, pi);
        state.ResumeTiming();
        feed(r, m, pi, burst);
        n += batch;
        base += batch;
    }
    reset_all(r, base - batch);
    state.SetItemsProcessed(int64_t(n));
    state.counters["accepted"] = double(r.eng.counters()[ctr::accepted]);
}

void BM_ThirdAckAccept(benchmark::State& state)
{
    run_accept(state, syncookie_mode::automatic, state.range(0) != 0);
}
BENCHMARK(BM_ThirdAckAccept)->Arg(0)->Arg(1)->ArgName("burst")->Unit(benchmark::kMicrosecond);

void BM_CookieAckAccept(benchmark::State& state)
{
    run_accept(state, syncookie_mode::always, state.range(0) != 0);
}
BENCHMARK(BM_CookieAckAccept)->Arg(0)->Arg(1)->ArgName("burst")->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv)
{
    // EAL's main lcore is the CPU we were started on (taskset -c N keeps it there).
    const std::string lcore = std::to_string(sched_getcpu());
    const char* eal_args[] = {"bench-tcp", "--no-huge", "--no-shconf", "--no-pci", "-m", "1024", "--log-level=error",
                              "-l", lcore.c_str()};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        std::fprintf(stderr, "bench-tcp: rte_eal_init failed\n");
        return 1;
    }
    g_pool = rte_pktmbuf_pool_create("bench_mbufs", 3 * batch + 1023, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY);
    if (g_pool == nullptr) {
        std::fprintf(stderr, "bench-tcp: no mbuf pool\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_mempool_free(g_pool);
    rte_eal_cleanup();
    return 0;
}
