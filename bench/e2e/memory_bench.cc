// bench-e2e-memory: bytes per connection with 10 million connections open on
// one side, against the 128-byte budget.
//
//   bench-e2e-memory -l 0-1 -- [--connections N] [--capacity N] [--pair] [--cps N] [--hold-ms MS]
//       [--http] [--timeout S] [--ports ring|vhost] [--json FILE]
//
// Default (passive side): a responder stack on lcore 1 (SYN cookies always,
// accept_action::hold) and the blaster on lcore 0, which opens connections
// 0..N-1 once each -- SYN, SYN-ACK, and the third ACK built from the SYN-ACK
// -- from 65536 source addresses, with at most 2048 SYNs unanswered so no
// frame is ever lost. Every cookie ACK makes an ESTABLISHED connection that
// the responder holds.
// --pair: both sides are Floodgate stacks on a port pair (as fg-loadgen
// --responder): the client's generator opens N connections with close mode
// hold from 1024 source addresses, the responder holds them too.
// --ports vhost: the two sides talk over a virtio_user <-> net_vhost pair
// in this process instead of a ring pair.
//
// --http: the engines carry the data path (tcp/stream.hh): the responder
// serves HTTP (accept_action::serve) and, with --pair, every client
// connection first runs one HTTP exchange and is then held; each engine
// then also has its 24-byte xfer block per slot.
//
// Reported per side, divided by the connections actually open: pool
// (64-byte conn blocks + 4-byte generation words), established table and
// timer wheel bytes, as the library accounts them for the engine's capacity
// (a standalone pool and table of the same capacity; the wheel's fixed slot
// heads); and, read from the live stacks, what else every engine and the
// client's load generator hold: connect()'s 8-byte user value per pool slot
// (allocated by every engine; a passive connection never writes it), the
// active side's fixed tables (port allocator), and the generator's memory
// (generator::memory_bytes(): its source-pair rings, counted for every pair
// handed out, and with --hold-ms its hold FIFO, 2 x 12 bytes per slot; held
// until the end, the default and fg-loadgen's, needs no FIFO). Then the
// process's RSS growth per connection (everything: DPDK, rings, both sides
// with --pair). With one lcore (-l 0) both sides take turns on it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "common/options.hh"
#include "common/runtime.hh"
#include "http/group.hh"
#include "e2e.hh"
#include "eal.hh"
#include "port.hh"
#include "table/conn_table.hh"
#include "table/pool.hh"
#include "gen/generator.hh"
#include "port/allocator.hh"
#include "tcp/conn.hh"
#include "tcp/connect.hh"
#include "timer/wheel.hh"

using namespace fg;

namespace {

constexpr double budget_bytes = 128; // the project's per-connection target, table included

struct options {
    uint64_t connections = 10'000'000;
    uint64_t capacity = 0; // 0: = connections
    bool pair = false;
    double cps = 5e5;      // --pair: the client generator's rate (a full ring loses SYNs: 1 s retransmit)
    uint32_t hold_ms = 0;  // --pair: the client's hold time (0: until the end, no hold FIFO; else the FIFO counts)
    double timeout = 600;
    bool http = false;
    apps::bench_options b; // --ports, --json, --help, --version (--seconds unused)
};

struct side_memory {
    std::size_t pool = 0;
    std::size_t table = 0;
    std::size_t wheel = 0;
    std::size_t xfer = 0;         // data path blocks (--http)
    std::size_t user = 0;         // connect()'s user value per pool slot (every engine allocates it)
    std::size_t active_fixed = 0; // the active side's fixed part: port allocator tables, RTT histogram
    std::size_t gen = 0;          // the load generator: pair rings, hold FIFO, per-target tables
    std::size_t total() const { return pool + table + wheel + xfer + user + active_fixed + gen; }
};

// The engine's own structures for `capacity`, as the library accounts them.
side_memory engine_memory(uint32_t capacity, bool http)
{
    side_memory m;
    m.xfer = http ? std::size_t(capacity) * sizeof(tcp::xfer) : 0; // data.cc init_data(): one per slot
    {
        table::pool<tcp::conn> p;
        if (p.init(capacity, 0, false)) { // not populated: only the size is wanted
            m.pool = p.memory_bytes();
        }
    }
    {
        table::conn_table t;
        if (t.init(capacity)) {
            m.table = t.memory_bytes();
        }
    }
    m.wheel = std::size_t(timer::wheel::n_slots) * 8; // wheel.hh: slot heads, 8 bytes each; links live in the conns
    return m;
}

// What a live stack's engines and generators hold beyond the pool, table,
// wheel and data path: the active side (every engine has one: connect()'s
// per-slot user values, the port allocator's tables) and the load generator
// (generator::memory_bytes(): its pair rings, counted for every pair handed
// out, the hold FIFO, per-target tables). Read before the stack goes.
void add_live_memory(core::stack& st, side_memory& m)
{
    for (uint16_t i = 0; i < st.n_lcores(); i++) {
        core::lcore& c = st.lc(i);
        if (const tcp::active_state* a = c.tcp.active_side(); a != nullptr) {
            m.user += a->user_mem.bytes;
            m.active_fixed += sizeof(tcp::active_state) + std::size_t(port::allocator::perturb_size) * sizeof(uint16_t) *
                                                               (a->cfg.ports.remember_full_parity ? 2 : 1);
        }
        if (c.gen) {
            m.gen += c.gen->memory_bytes();
        }
    }
}

int stack_main(void* p)
{
    auto* st = static_cast<core::stack*>(p);
    return st->run_lcore(rte_lcore_id());
}

void print_side(const char* name, const side_memory& m, uint64_t conns, uint64_t capacity, const char* user_note)
{
    const double n = double(conns ? conns : 1);
    std::printf("  %-9s %lu connections (capacity %lu): pool %.1f B + table %.1f B + wheel %.2f B + data path %.1f B "
                "+ connect() user values %.1f B%s + active side's fixed tables %.2f B + generator %.1f B "
                "= %.1f B per connection (budget %.0f B: %s)\n",
                name, (unsigned long)conns, (unsigned long)capacity, double(m.pool) / n, double(m.table) / n,
                double(m.wheel) / n, double(m.xfer) / n, double(m.user) / n, user_note, double(m.active_fixed) / n,
                double(m.gen) / n, double(m.total()) / n, budget_bytes,
                double(m.total()) / n <= budget_bytes ? "within" : "OVER");
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    std::vector<apps::option> rows;
    rows.push_back({"connections", true, "N  connections to open and hold; default 10000000",
                    [&](std::string_view v, std::string& e) {
                        return apps::parse_u64(v, 1, 100'000'000, o.connections, e);
                    }});
    rows.push_back({"capacity", true, "N  engine capacity (pool and table); default = --connections",
                    [&](std::string_view v, std::string& e) { return apps::parse_u64(v, 1024, 1u << 30, o.capacity, e); }});
    rows.push_back({"pair", false, "both sides Floodgate stacks (client generator with close hold)",
                    [&](std::string_view, std::string&) {
                        o.pair = true;
                        return true;
                    }});
    rows.push_back({"cps", true, "N  --pair: client connections per second; default 500000",
                    [&](std::string_view v, std::string& e) { return apps::parse_double(v, 1, 1e9, o.cps, e); }});
    rows.push_back(apps::u64_option("hold-ms", "MS  --pair: the client closes each connection after this long "
                                    "(its generator then keeps a hold FIFO, counted); default 0: held until the end",
                                    0, UINT32_MAX, [&](uint64_t x) { o.hold_ms = uint32_t(x); }));
    rows.push_back({"http", false, "the data path on: responder serves HTTP, --pair client runs one exchange per connection",
                    [&](std::string_view, std::string&) {
                        o.http = true;
                        return true;
                    }});
    rows.push_back({"timeout", true, "S  give up filling after this long; default 600",
                    [&](std::string_view v, std::string& e) { return apps::parse_double(v, 1, 36000, o.timeout, e); }});
    for (apps::option& r : apps::bench_option_rows(o.b)) {
        if (r.name != "seconds") {
            rows.push_back(std::move(r));
        }
    }
    const int early = apps::parse_args("bench-e2e-memory",
                                       "Bytes per connection with N (10M) connections held by one engine, against "
                                       "the 128-byte budget; RSS growth per connection.",
                                       rows, o.b.help, o.b.version, argc, argv);
    if (early >= 0) {
        return early;
    }
    std::string err;
    if (o.capacity == 0) {
        o.capacity = o.connections;
    }
    http::server_group hserver; // outlive the stacks and the runtime
    http::client_group hclient;
    if (o.http) {
        http::server_config scfg;
        scfg.body = http::generated_body(64);
        scfg.idle_timeout_ms = 3600000; // held, not closed while the bench runs
        if (!hserver.init(scfg, err)) {
            std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
            return 1;
        }
    }
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 1024, err, o.b.ports);
    if (!rt) {
        std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    // Two lcores: the responder on the second, the blaster (or the client
    // stack) on the main one. One lcore: both on it, taking turns.
    const unsigned main_lc = rte_get_main_lcore();
    const unsigned next_lc = rte_get_next_lcore(main_lc, 1, 0);
    const bool one_lcore = rte_lcore_count() < 2 || next_lc >= RTE_MAX_LCORE;
    const unsigned peer = one_lcore ? main_lc : next_lc;
    std::printf("bench-e2e-memory: %s, load average %s, %lu connections, capacity %lu, %s, %s, %s\n",
                eal.hugepages ? "hugepages" : "no hugepages", e2e::load_average().c_str(),
                (unsigned long)o.connections, (unsigned long)o.capacity,
                o.pair ? "both sides Floodgate (--pair)" : "passive side (blaster clients)",
                apps::pair_kind_name(o.b.ports), one_lcore ? "one lcore (both sides take turns)" : "two lcores");
    std::fflush(stdout);

    // The responder's port (b) first: a virtio_user port connects to a started net_vhost one.
    uint16_t pa = 0;
    uint16_t pb = 0;
    const e2e::proc_mem m0 = e2e::read_proc_mem();
    const double t_create = e2e::now_s();
    const uint32_t server_ip = ipv4(198, 18, 0, 2);
    std::unique_ptr<core::stack> resp;
    auto make_resp = [&](uint16_t port, std::string& e) {
        core::stack_config rc;
        rc.name = "mem_resp";
        rc.port_id = port;
        rc.lcores = {peer};
        rc.gratuitous_arp = o.pair;
        rc.addrs.push_back(route::addr_range{server_ip, server_ip, 16});
        rc.tcp.capacity = uint32_t(o.capacity);
        if (o.http) {
            hserver.attach(rc);
        }
        resp = core::stack::create(rc, e);
        if (!resp) {
            e = "responder: " + e;
        }
        return resp != nullptr;
    };
    if (!rt->port_pair(o.b.ports, "memrp", 1, pa, pb, make_resp, err)) {
        std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
        return 1;
    }
    rte_ether_addr ma{};
    if (!o.pair && !e2e::start_raw_port(pa, ma, err)) {
        std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
        return 1;
    }
    tcp::listen_options lo;
    lo.cookies = tcp::syncookie_mode::always;
    lo.on_accept = o.http ? tcp::accept_action::serve : tcp::accept_action::hold;
    int rcode = 0;
    auto l = resp->listen(0, 80, lo, rcode, err);
    if (!l) {
        std::fprintf(stderr, "bench-e2e-memory: listen: %s\n", err.c_str());
        return 1;
    }
    std::unique_ptr<core::stack> cli;
    if (o.pair) {
        core::stack_config cc;
        cc.name = "mem_client";
        cc.port_id = pa;
        cc.lcores = {main_lc};
        const uint32_t first = ipv4(198, 18, 4, 0); // 1024 addresses: 198.18.4.0 - 198.18.7.255
        cc.addrs.push_back(route::addr_range{first, first + 1023, 16});
        cc.tcp.capacity = uint32_t(o.capacity);
        cc.gen.close = gen::close_mode::hold;
        cc.gen.hold_ms = o.hold_ms;
        cc.gen.cps = o.cps;
        cc.gen.total = o.connections;
        cc.gen.concurrency = 0;
        cc.gen.targets.push_back(make_tuple4(0, 0, server_ip, 80));
        for (uint32_t a = 0; a < 1024; a++) {
            cc.gen.laddrs.push_back(rte_cpu_to_be_32(first + a));
        }
        if (o.http) {
            http::client_config hc;
            hc.targets = cc.gen.targets;
            hc.response_timeout_ms = 600000;
            if (!hclient.init(hc, err)) {
                std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
                return 1;
            }
            hclient.attach(cc);
        }
        cli = core::stack::create(cc, err);
        if (!cli) {
            std::fprintf(stderr, "bench-e2e-memory: client: %s\n", err.c_str());
            return 1;
        }
    }
    const e2e::proc_mem m1 = e2e::read_proc_mem();
    std::printf("  stacks created in %.2f s; RSS + hugepages %.1f MB -> %.1f MB\n", e2e::now_s() - t_create,
                double(m0.total_kb()) / 1024, double(m1.total_kb()) / 1024);
    std::fflush(stdout);

    // Fill.
    const double t0 = e2e::now_s();
    bool filled = false;
    if (!o.pair) {
        if (!one_lcore) {
            rte_eal_remote_launch(stack_main, resp.get(), peer);
        }
        std::atomic<bool> stop{false};
        e2e::blaster_stats bs;
        e2e::blaster_config bc;
        bc.port_id = pa;
        bc.pool = glue::mbuf_pool(0, 0, err);
        bc.connections = o.connections;
        bc.window = 2048;
        bc.syn.src_mac = ma;
        bc.syn.dst_mac = resp->mac();
        bc.syn.dst_ip = server_ip;
        bc.syn.dst_port = 80;
        bc.syn.src_ip_base = ipv4(198, 19, 0, 0);
        bc.syn.n_src_ips = 65536;
        bc.syn.src_port_base = 1024;
        bc.syn.linux_options = false; // MSS only: the third ACK needs no timestamp echo
        std::thread sampler([&] {
            uint64_t last = 0;
            double next = t0 + 1;
            while (!bs.done.load(std::memory_order_acquire) && e2e::now_s() - t0 < o.timeout) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                if (e2e::now_s() >= next) {
                    const uint64_t a = bs.acks_sent.load(std::memory_order_relaxed);
                    std::printf("  [%5.1fs] handshakes %s/s, %lu done\n", next - t0,
                                e2e::fmt_rate(double(a - last)).c_str(), (unsigned long)a);
                    std::fflush(stdout);
                    last = a;
                    next += 1;
                }
            }
            stop.store(true);
        });
        if (one_lcore) {
            e2e::handshake_blaster hb(bc);
            while (!stop.load(std::memory_order_relaxed) && !hb.step(bs)) {
                resp->step(0);
            }
        } else {
            e2e::blast_handshakes(bc, stop, bs);
        }
        sampler.join();
        // The last third ACKs may still sit in the responder's rx ring.
        const double wait_end = e2e::now_s() + 2;
        while (resp->conns_in_use() < o.connections && e2e::now_s() < wait_end) {
            if (one_lcore) {
                resp->step(0);
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        filled = bs.done.load();
        std::printf("  blaster: SYNs %lu, SYN-ACKs %lu, ACKs %lu, RSTs %lu, other %lu\n",
                    (unsigned long)bs.syn_sent.load(), (unsigned long)bs.synack.load(),
                    (unsigned long)bs.acks_sent.load(), (unsigned long)bs.rst.load(), (unsigned long)bs.other.load());
    } else {
        apps::run_options ro;
        ro.duration_s = o.timeout;
        ro.stats_interval_s = 1;
        uint64_t last = 0;
        ro.stats_line = [&](double t, double iv) {
            const uint64_t est = cli->tcp_total(tcp::ctr::established);
            char b[200];
            std::snprintf(b, sizeof(b), "  [%5.1fs] established %s/s, client %lu, responder %lu held", t,
                          e2e::fmt_rate(double(est - last) / iv).c_str(), (unsigned long)est,
                          (unsigned long)resp->conns_in_use());
            last = est;
            return std::string(b);
        };
        // A third ACK the ring refused is never sent again (held connections
        // send nothing more): the responder may end a few short. Done when
        // the client has them all and the responder stopped growing.
        uint64_t resp_last = 0;
        int resp_still = 0;
        ro.done = [&](double) {
            const uint64_t r = resp->conns_in_use();
            resp_still = r == resp_last ? resp_still + 1 : 0;
            resp_last = r;
            return cli->tcp_total(tcp::ctr::established) >= o.connections && (r >= o.connections || resp_still >= 3);
        };
        apps::run({cli.get(), resp.get()}, ro);
        filled = cli->tcp_total(tcp::ctr::established) >= o.connections;
    }
    const double fill_s = e2e::now_s() - t0;
    const e2e::proc_mem m2 = e2e::read_proc_mem();
    if (!o.pair && one_lcore) {
        resp->finish(0);
    } else if (!o.pair) {
        resp->stop();
        rte_eal_wait_lcore(peer);
    }
    const uint64_t held = resp->conns_in_use();
    std::printf("  filled in %.1f s: responder holds %lu connections (table %u, timers armed %zu), cookies "
                "accepted %lu, pool exhausted %lu, table full %lu\n",
                fill_s, (unsigned long)held, resp->lc(0).tcp.table_size(), resp->lc(0).tcp.timers_armed(),
                (unsigned long)resp->tcp_total(tcp::ctr::cookies_accepted),
                (unsigned long)resp->tcp_total(tcp::ctr::pool_exhausted),
                (unsigned long)resp->tcp_total(tcp::ctr::table_full));
    uint64_t client_held = 0;
    if (cli) {
        client_held = cli->conns_in_use();
        std::printf("  client holds %lu connections (table %u, timers armed %zu), no_port %lu, timed out %lu\n",
                    (unsigned long)client_held, cli->lc(0).tcp.table_size(), cli->lc(0).tcp.timers_armed(),
                    (unsigned long)cli->tcp_total(tcp::ctr::no_port), (unsigned long)cli->tcp_total(tcp::ctr::timed_out));
    }
    const double rss_per_conn =
        double(m2.total_kb() - m0.total_kb()) * 1024 / double(held + client_held ? held + client_held : 1);
    std::printf("  RSS + hugepages (of which hugepages): %.1f MB (%.1f) before the stacks, %.1f MB (%.1f) created "
                "(populated), %.1f MB (%.1f) full; growth %.1f B per connection (%s)\n",
                double(m0.total_kb()) / 1024, double(m0.hugetlb_kb) / 1024, double(m1.total_kb()) / 1024,
                double(m1.hugetlb_kb) / 1024, double(m2.total_kb()) / 1024, double(m2.hugetlb_kb) / 1024,
                rss_per_conn, o.pair ? "both sides together" : "passive side");

    // What the live stacks hold beyond pool, table and wheel (user values,
    // the active side's tables, the generator), before they go.
    side_memory rm = engine_memory(uint32_t(o.capacity), o.http); // sizes only: nothing is allocated for long
    side_memory cm = rm;
    add_live_memory(*resp, rm);
    if (cli) {
        add_live_memory(*cli, cm);
    }
    resp->unlisten(*l); // the lcores have stopped: the RCU grace period is immediate
    l.reset();
    // The stacks go now; the runtime closes the ports at exit.
    cli.reset();
    resp.reset();
    if (o.http) {
        const http::client_counters hc = hclient.counters();
        std::printf("  HTTP: client responses ok %lu of %lu requests; responder answered %lu\n",
                    (unsigned long)hc[http::client_ctr::responses_ok], (unsigned long)hc[http::client_ctr::requests_sent],
                    (unsigned long)hserver.counters()[http::server_ctr::requests]);
    }
    std::printf("RESULT per side, engine structures / connections open:\n");
    print_side("responder", rm, held, o.capacity, " (allocated for every slot; a passive connection never writes it)");
    if (o.pair) {
        print_side("client", cm, client_held, o.capacity, "");
    }
    std::printf("  (conn block %zu B incl. its 12-byte timer link; load average now %s)\n", sizeof(tcp::conn),
                e2e::load_average().c_str());
    if (!o.b.json.empty()) {
        apps::json_object j;
        j.add("bench", std::string("e2e-memory"));
        j.add("hugepages", uint64_t(eal.hugepages));
        j.add("connections", held);
        j.add("capacity", o.capacity);
        j.add("filled", uint64_t(filled));
        j.add("fill_seconds", fill_s);
        j.add("lcores", uint64_t(one_lcore ? 1 : 2));
        j.add("pool_bytes", uint64_t(rm.pool));
        j.add("table_bytes", uint64_t(rm.table));
        j.add("wheel_bytes", uint64_t(rm.wheel));
        j.add("xfer_bytes", uint64_t(rm.xfer));
        j.add("user_bytes", uint64_t(rm.user));
        j.add("active_fixed_bytes", uint64_t(rm.active_fixed));
        j.add("bytes_per_connection", double(rm.total()) / double(held ? held : 1));
        j.add("rss_growth_bytes_per_connection", rss_per_conn);
        j.add("rss_full_kb", m2.rss_kb);
        j.add("hugetlb_full_kb", m2.hugetlb_kb);
        if (o.pair) {
            j.add("client_connections", client_held);
            j.add("client_hold_ms", uint64_t(o.hold_ms));
            j.add("client_user_bytes", uint64_t(cm.user));
            j.add("client_active_fixed_bytes", uint64_t(cm.active_fixed));
            j.add("client_generator_bytes", uint64_t(cm.gen));
            j.add("client_bytes", uint64_t(cm.total()));
            j.add("client_bytes_per_connection", double(cm.total()) / double(client_held ? client_held : 1));
        }
        j.add("load_average", e2e::load_average());
        if (!j.write(o.b.json, err)) {
            std::fprintf(stderr, "bench-e2e-memory: %s\n", err.c_str());
        }
    }
    return filled ? 0 : 1;
}
