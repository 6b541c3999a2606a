// bench-pipe: what a whole handshake costs the two stacks together, with
// nothing else in the measurement. A client stack (lib/gen generator, close
// by RST) and a responder stack (SYN cookies always, accepted on the lcore)
// sit on the two ends of a ring pair, and ONE thread steps both loops in turn
// (core::stack::step): SYN built, classified, cookie SYN-ACK built in place,
// third ACK in place, RST built, cookie ACK accepted, RST frees it -- the
// real loop code, rings included. No second core, no scheduler, no waiting:
// CPU time per handshake, steady enough on a loaded VM, and deterministic
// enough to run under `valgrind --tool=callgrind` for instruction counts.
//
// The e2e benchmark (bench/e2e/handshake_bench.cc) runs the same two stacks
// on two lcores; a pair of cores can at best do 2 / (ns per handshake here)
// when the work splits evenly.
//
//   bench-pipe [--benchmark_filter=...] [--benchmark_min_time=2]
//   valgrind --tool=callgrind build/bench/bench-pipe --benchmark_min_time=0.2
//
// BM_HandshakePipe/concurrency: N in flight at once (the generator's limit).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "core/stack.hh"
#include "eal.hh"
#include "port.hh"

namespace {

using namespace fg;

struct pipe {
    std::unique_ptr<core::stack> client;
    std::unique_ptr<core::stack> resp;
    std::unique_ptr<tcp::listener> lst;
    uint16_t pa = 0;
    uint16_t pb = 0;

    ~pipe()
    {
        if (client) {
            client->finish(0);
        }
        if (resp) {
            resp->finish(0);
            if (lst) {
                resp->unlisten(*lst);
            }
        }
        lst.reset();
        client.reset();
        resp.reset();
        glue::port_stop(pa);
        glue::port_stop(pb);
    }
};

std::unique_ptr<pipe> make_pipe(uint32_t concurrency, std::string& err)
{
    static int n = 0;
    auto p = std::make_unique<pipe>();
    if (!glue::make_ring_pair("pipe" + std::to_string(n++), 1, 0, p->pa, p->pb, err)) {
        return nullptr;
    }
    const unsigned me = rte_lcore_id();
    const uint32_t server_ip = ipv4(198, 18, 0, 2);
    core::stack_config rc;
    rc.name = "pipe_resp" + std::to_string(n);
    rc.port_id = p->pb;
    rc.lcores = {me};
    rc.addrs.push_back(route::addr_range{server_ip, server_ip, 16});
    rc.tcp.capacity = 1u << 16;
    rc.gratuitous_arp = false;
    p->resp = core::stack::create(rc, err);
    if (!p->resp) {
        return nullptr;
    }
    tcp::listen_options lo;
    lo.cookies = tcp::syncookie_mode::always;
    lo.on_accept = tcp::accept_action::hold;
    int rcode = 0;
    p->lst = p->resp->listen(0, 80, lo, rcode, err);
    if (!p->lst) {
        return nullptr;
    }
    core::stack_config cc;
    cc.name = "pipe_client" + std::to_string(n);
    cc.port_id = p->pa;
    cc.lcores = {me};
    cc.tcp.capacity = 1u << 16;
    cc.gratuitous_arp = false;
    const uint32_t first = ipv4(198, 18, 1, 0);
    cc.addrs.push_back(route::addr_range{first, first + 255, 16});
    cc.gen.close = gen::close_mode::rst;
    cc.gen.cps = 1e12; // the bucket is always full: concurrency is the only limit
    cc.gen.burst = 32;
    cc.gen.concurrency = concurrency;
    cc.gen.targets.push_back(make_tuple4(0, 0, server_ip, 80));
    for (uint32_t a = 0; a < 256; a++) {
        cc.gen.laddrs.push_back(rte_cpu_to_be_32(first + a));
    }
    // Both stacks resolve each other's MAC from the ring pair's fixed MACs.
    p->client = core::stack::create(cc, err);
    if (!p->client) {
        return nullptr;
    }
    return p;
}

void BM_HandshakePipe(benchmark::State& state)
{
    std::string err;
    std::unique_ptr<pipe> p = make_pipe(uint32_t(state.range(0)), err);
    if (!p) {
        state.SkipWithError(err.c_str());
        return;
    }
    // Warm up: ARP, first fills of pools and tables.
    for (int i = 0; i < 20000; i++) {
        p->client->step(0);
        p->resp->step(0);
    }
    const uint64_t est0 = p->client->tcp_total(tcp::ctr::established);
    const uint64_t acc0 = p->resp->tcp_total(tcp::ctr::cookies_accepted);
    for (auto _ : state) {
        p->client->step(0);
        p->resp->step(0);
    }
    const uint64_t est = p->client->tcp_total(tcp::ctr::established) - est0;
    const uint64_t acc = p->resp->tcp_total(tcp::ctr::cookies_accepted) - acc0;
    state.SetItemsProcessed(int64_t(est));
    state.counters["handshakes"] = double(est);
    state.counters["ns_per_handshake"] = benchmark::Counter(
        double(est), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["accepted_ratio"] = est != 0 ? double(acc) / double(est) : 0;
    state.counters["syn_rtx"] = double(p->client->tcp_total(tcp::ctr::syn_retransmits));
    state.counters["resp_challenge_acks"] = double(p->resp->tcp_total(tcp::ctr::challenge_acks));
    state.counters["resp_cookies_rejected"] = double(p->resp->tcp_total(tcp::ctr::cookies_rejected));
    state.counters["client_bad_ack"] = double(p->client->tcp_total(tcp::ctr::synsent_bad_ack));
    state.counters["neigh_drops"] = double(p->client->core_total(core::ctr::neigh_queue_dropped));
    if (std::getenv("FG_PIPE_DEBUG") != nullptr) {
        const route::neigh_counters nc = p->client->neigh_total();
#define FG_X(name, desc) std::fprintf(stderr, "client neigh %s %lu\n", #name, (unsigned long)nc.name);
        FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X
    }
    state.counters["tx_drops"] =
        double(p->client->core_total(core::ctr::tx_dropped) + p->resp->core_total(core::ctr::tx_dropped));
}
BENCHMARK(BM_HandshakePipe)->Arg(64)->Arg(256)->Arg(1024)->ArgName("concurrency");

} // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    const char* args[] = {"bench-pipe", "-l", "0", "--log-level=error", "--no-pci"};
    glue::eal_result eal = glue::eal_start(int(sizeof(args) / sizeof(args[0])), const_cast<char**>(args), 1024);
    if (!eal.ok) {
        std::fprintf(stderr, "bench-pipe: %s\n", eal.error.c_str());
        return 1;
    }
    std::printf("bench-pipe: %s\n", eal.hugepages ? "hugepages" : "no hugepages");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    glue::eal_stop();
    return 0;
}
