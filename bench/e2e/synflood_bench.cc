// bench-e2e-synflood: SYN-cookie SYN-ACKs per second from one lcore, against
// the raw ring-port floor and against the Linux kernel's per-core rate, in
// one run.
//
//   bench-e2e-synflood -l 0-1 -- [--seconds S] [--flows N] [--in-flight N] [--plain-syn] [--nic-rx-cksum]
//       [--only floor|fg|kernel] [--no-kernel] [--ports ring|vhost] [--json FILE]
//
// With one lcore (-l 0) the blaster and the responder (or the reflector)
// take turns on it, step by step; the responder's CPU time is then the
// lcore thread's times the share of the loop's TSC cycles spent in its steps.
// The blaster (lcore 0) keeps --in-flight frames (default 4096, a NIC rx
// ring's depth) out at once, SYNs from --flows distinct sources (65536
// addresses of 198.19.0.0/16, then further ports), rebuilding each reply's
// mbuf into the next SYN, and counts what comes back. (--in-flight 0 fills
// the 65536-deep ring pair: every SYN then waits ~10 ms and is cold.)
//  floor: lcore 1 only rx_bursts, swaps MACs and tx_bursts back: the most a
//         responder lcore could ever answer through this ring pair;
//  fg:    lcore 1 runs a Floodgate stack listening on port 80 with SYN
//         cookies always: classify, listener lookup, cookie, SYN-ACK built in
//         place with options, checksums in software (ring ports offload
//         nothing; --nic-rx-cksum marks the SYNs' checksums as verified, as a
//         NIC would, so only the transmit side is computed).
//  kernel: the Linux kernel answering the same SYNs with cookies
//         (tcp_syncookies=2) in a network namespace, fed over a veth by a
//         blaster thread pinned to lcore 1's CPU; its CPU time per SYN minus
//         that of the same blast dropped at ingress is its cost per SYN-ACK
//         (kernel_synflood.hh says exactly what is counted and why). Needs
//         root and network namespaces: without them it says why and the run
//         reports Floodgate vs the floor only.
// Printed: replies/s of each and the ratios fg / floor (wall clock, as
// before) and fg / kernel: Floodgate Mpps per lcore over the kernel's Mpps
// per core, both per second of CPU time -- the responder lcore thread's CPU
// clock over the measured window (it polls, so its idle spins count against
// it), the kernel's as kernel_synflood.hh measures it -- so a machine shared
// with other work does not skew one side; the wall-clock Floodgate rate and
// the share of the window its lcore was on a CPU are printed beside it.
// --ports vhost: the blaster's port is virtio_user, the other side net_vhost
// (this process).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <pthread.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "common/options.hh"
#include "common/runtime.hh"
#include "e2e.hh"
#include "eal.hh"
#include "kernel_synflood.hh"
#include "port.hh"

using namespace fg;

namespace {

struct options {
    apps::bench_options b;   // --seconds, --ports, --json, --help, --version
    double warmup = 0.5;     // not measured: rings filling, caches warming
    uint32_t flows = 16384;  // distinct SYN frames (1.3 MB of templates: L2/L3-resident)
    uint32_t in_flight = 4096; // frames out at once: a NIC rx ring's depth (0: fill the ring pair)
    bool plain_syn = false;
    bool nic_rx_cksum = false;
    std::string only;
    bool kernel = true;            // --no-kernel: skip the kernel baseline
    uint32_t mbufs = 0;            // 0: drivers-glue's default pool (65535 mbufs)
};

struct phase_result {
    bool ok = false;
    double seconds = 0;
    uint64_t replies = 0;   // in the measured window
    uint64_t synacks = 0;
    uint64_t syn_sent = 0;
    double blaster_idle = 0; // share of the blaster's time in loops that received nothing and sent nothing
    double peer_cpu_s = 0;   // fg: CPU time the responder lcore's thread got in the window (0: unknown)
    double thread_cpu_s = 0; // one lcore: CPU time of the thread the blaster and the peer share
    double peer_share = 0;   // one lcore: the share of that thread's loop spent in peer steps
    double replies_per_s() const { return seconds > 0 ? double(replies) / seconds : 0; }
    double synacks_per_s() const { return seconds > 0 ? double(synacks) / seconds : 0; }
    // fg: per second of CPU time its lcore's thread was given (a polling lcore
    // spins while it waits, so this still counts its idle polls); the
    // wall-clock rate when the CPU time is unknown.
    double synacks_per_cpu_s() const { return peer_cpu_s > 0 ? double(synacks) / peer_cpu_s : synacks_per_s(); }
};

struct reflect_arg {
    uint16_t port;
    const std::atomic<bool>* stop;
    e2e::reflector_stats* stats;
};

int reflect_main(void* p)
{
    auto* a = static_cast<reflect_arg*>(p);
    e2e::reflect_loop(a->port, *a->stop, *a->stats);
    return 0;
}

// The responder lcore's loop; publishes its thread's CPU clock, so the
// measured window can say how much of a CPU the lcore was given.
struct stack_arg {
    core::stack* st;
    std::atomic<bool> clock_ready{false};
    clockid_t clock{};
};

int stack_main(void* p)
{
    auto* a = static_cast<stack_arg*>(p);
    if (pthread_getcpuclockid(pthread_self(), &a->clock) == 0) {
        a->clock_ready.store(true);
    }
    return a->st->run_lcore(rte_lcore_id());
}

double cpu_clock_s(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// The lcore that answers: another lcore (its thread's CPU clock published
// by stack_main), or, with one lcore, the blaster's own thread, which then
// takes turns: a blaster step, a peer step (timed with the TSC).
struct peer_clock {
    const stack_arg* other = nullptr;      // two lcores: the peer lcore's thread
    bool shared = false;                   // one lcore: this thread, peer_tsc of its TSC cycles in peer steps
    std::atomic<uint64_t> peer_tsc{0};
};

// Runs the blaster on this (main) lcore for warmup + seconds while a thread
// samples its counters once a second and stops it. With one lcore,
// peer_step() (the reflector or the stack, one iteration) runs after each
// blaster step; peer_cpu_s is then this thread's CPU time times the share of
// its loop's TSC cycles spent in peer steps.
template <class PeerStep>
phase_result blast(const char* name, const e2e::blaster_config& bc, const options& o, peer_clock& pc,
                   PeerStep&& peer_step)
{
    phase_result r;
    std::atomic<bool> stop{false};
    e2e::blaster_stats bs;
    clockid_t self_clock{};
    const bool self_clock_ok = pc.shared && pthread_getcpuclockid(pthread_self(), &self_clock) == 0;
    std::thread sampler([&] {
        auto sleep_until = [](double t) {
            while (e2e::now_s() < t) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        };
        auto replies = [&] {
            return bs.synack.load(std::memory_order_relaxed) + bs.rst.load(std::memory_order_relaxed) +
                   bs.other.load(std::memory_order_relaxed);
        };
        const double t0 = e2e::now_s();
        sleep_until(t0 + o.warmup);
        const double m0 = e2e::now_s();
        const uint64_t r0 = replies();
        const uint64_t s0 = bs.synack.load(std::memory_order_relaxed);
        const uint64_t n0 = bs.syn_sent.load(std::memory_order_relaxed);
        const bool other_clock = pc.other != nullptr && pc.other->clock_ready.load();
        const double c0 = other_clock ? cpu_clock_s(pc.other->clock) : self_clock_ok ? cpu_clock_s(self_clock) : 0;
        const uint64_t p0 = pc.peer_tsc.load(std::memory_order_relaxed);
        const uint64_t b0 = bs.tsc_total.load(std::memory_order_relaxed);
        uint64_t last = r0;
        for (double t = 1; t <= o.b.seconds + 1e-9; t += 1) {
            sleep_until(m0 + t);
            const uint64_t now = replies();
            std::printf("  [%s %4.1fs] replies %s/s (SYN-ACKs %lu total)\n", name, t,
                        e2e::fmt_rate(double(now - last)).c_str(),
                        (unsigned long)bs.synack.load(std::memory_order_relaxed));
            std::fflush(stdout);
            last = now;
        }
        r.seconds = e2e::now_s() - m0;
        if (other_clock) {
            r.peer_cpu_s = cpu_clock_s(pc.other->clock) - c0;
        } else if (self_clock_ok) {
            const double dp = double(pc.peer_tsc.load(std::memory_order_relaxed) - p0);
            const double db = double(bs.tsc_total.load(std::memory_order_relaxed) - b0);
            r.peer_share = dp + db > 0 ? dp / (dp + db) : 0;
            r.thread_cpu_s = cpu_clock_s(self_clock) - c0;
            r.peer_cpu_s = r.thread_cpu_s * r.peer_share;
        }
        r.replies = replies() - r0;
        r.synacks = bs.synack.load(std::memory_order_relaxed) - s0;
        r.syn_sent = bs.syn_sent.load(std::memory_order_relaxed) - n0;
        r.blaster_idle = double(bs.tsc_idle.load()) / double(bs.tsc_total.load() ? bs.tsc_total.load() : 1);
        stop.store(true);
    });
    {
        e2e::flood_blaster fb(bc);
        uint64_t peer_tsc = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            fb.step(bs);
            if (pc.shared) {
                const uint64_t t = rte_rdtsc();
                peer_step();
                peer_tsc += rte_rdtsc() - t;
                pc.peer_tsc.store(peer_tsc, std::memory_order_relaxed);
            }
        }
    }
    sampler.join();
    r.ok = true;
    return r;
}

e2e::blaster_config blaster_for(uint16_t port, const rte_ether_addr& src, const rte_ether_addr& dst,
                                const options& o, std::string& err)
{
    e2e::blaster_config bc;
    bc.port_id = port;
    bc.pool = glue::mbuf_pool(0, 0, err);
    bc.flows = o.flows;
    bc.flood_in_flight = o.in_flight;
    bc.syn.src_mac = src;
    bc.syn.dst_mac = dst;
    bc.syn.dst_ip = ipv4(198, 18, 0, 2);
    bc.syn.dst_port = 80;
    bc.syn.src_ip_base = ipv4(198, 19, 0, 0);
    bc.syn.n_src_ips = 65536;
    bc.syn.src_port_base = 1024;
    bc.syn.linux_options = !o.plain_syn;
    bc.syn.rx_cksum_good = o.nic_rx_cksum;
    return bc;
}

// peer_lcore: the reflector's lcore; the main lcore itself when there is only one (shared).
phase_result run_floor(apps::runtime& rt, const options& o, unsigned peer_lcore)
{
    const bool shared = peer_lcore == rte_get_main_lcore();
    std::string err;
    uint16_t pa = 0;
    uint16_t pb = 0;
    rte_ether_addr ma{};
    rte_ether_addr mb{};
    if (!e2e::raw_port_pair(rt, o.b.ports, "sffl", pa, pb, ma, mb, err)) {
        std::fprintf(stderr, "bench-e2e-synflood: floor ports: %s\n", err.c_str());
        return {};
    }
    const e2e::blaster_config bc = blaster_for(pa, ma, mb, o, err);
    std::atomic<bool> stop{false};
    e2e::reflector_stats rs;
    reflect_arg ra{pb, &stop, &rs};
    peer_clock pc;
    pc.shared = shared;
    phase_result r;
    if (shared) {
        r = blast("floor", bc, o, pc, [&] { e2e::reflect_step(pb, rs); });
    } else {
        rte_eal_remote_launch(reflect_main, &ra, peer_lcore);
        r = blast("floor", bc, o, pc, [] {});
        stop.store(true);
        rte_eal_wait_lcore(peer_lcore);
    }
    std::printf("    floor reflector: rx %lu, tx %lu, refused %lu, waiting %.0f%% of its time; blaster waiting %.0f%% of "
                "its time\n",
                (unsigned long)rs.rx, (unsigned long)rs.tx, (unsigned long)rs.dropped,
                100.0 * double(rs.tsc_idle) / double(rs.tsc_total ? rs.tsc_total : 1), 100 * r.blaster_idle);
    if (shared) {
        std::printf("    one lcore: the reflector had %.0f%% of the loop, the blaster the rest\n", 100 * r.peer_share);
    }
    return r;
}

phase_result run_fg(apps::runtime& rt, const options& o, unsigned peer_lcore, uint64_t& cookies_sent,
                    uint64_t& tx_refused)
{
    std::string err;
    uint16_t pa = 0;
    uint16_t pb = 0;
    rte_ether_addr ma{};
    core::stack* st = nullptr;
    auto start_b = [&](uint16_t port, std::string& e) {
        core::stack_config rc;
        rc.name = "sf_resp";
        rc.port_id = port;
        rc.lcores = {peer_lcore};
        rc.gratuitous_arp = false; // the blaster does not speak ARP
        rc.addrs.push_back(route::addr_range{ipv4(198, 18, 0, 2), ipv4(198, 18, 0, 2), 16});
        st = rt.add_stack(rc, e);
        return st != nullptr;
    };
    if (!rt.port_pair(o.b.ports, "sffg", 1, pa, pb, start_b, err) || !e2e::start_raw_port(pa, ma, err)) {
        std::fprintf(stderr, "bench-e2e-synflood: fg: %s\n", err.c_str());
        return {};
    }
    tcp::listen_options lo;
    lo.cookies = tcp::syncookie_mode::always;
    lo.on_accept = tcp::accept_action::hold;
    if (rt.listen(*st, 0, 80, lo, err) == nullptr) {
        std::fprintf(stderr, "bench-e2e-synflood: listen: %s\n", err.c_str());
        return {};
    }
    const e2e::blaster_config bc = blaster_for(pa, ma, st->mac(), o, err);
    stack_arg sa{st};
    peer_clock pc;
    pc.shared = peer_lcore == rte_get_main_lcore();
    phase_result r;
    if (pc.shared) {
        r = blast("fg", bc, o, pc, [st] { st->step(0); });
        st->finish(0);
    } else {
        pc.other = &sa;
        rte_eal_remote_launch(stack_main, &sa, peer_lcore);
        r = blast("fg", bc, o, pc, [] {});
        st->stop();
        rte_eal_wait_lcore(peer_lcore);
    }
    cookies_sent = st->tcp_total(tcp::ctr::cookies_sent);
    tx_refused = st->core_total(core::ctr::tx_dropped);
    std::printf("    responder: SYNs %lu, SYN-ACKs %lu (cookies %lu), rx %lu, tx refused %lu, bad checksums %lu; "
                "blaster waiting %.0f%% of its time\n",
                (unsigned long)st->tcp_total(tcp::ctr::syn_received), (unsigned long)st->tcp_total(tcp::ctr::synack_sent),
                (unsigned long)cookies_sent, (unsigned long)st->core_total(core::ctr::rx_packets),
                (unsigned long)tx_refused, (unsigned long)st->drop_total(net::drop::bad_tcp_cksum), 100 * r.blaster_idle);
    return r; // the runtime takes the listener, the stack and the ports down at exit
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    std::vector<apps::option> rows = apps::bench_option_rows(o.b);
    rows.push_back({"flows", true, "N  distinct SYNs (source address/port) cycled through; default 16384",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1, 1u << 22, x, e)) {
                            return false;
                        }
                        o.flows = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"in-flight", true,
                    "N  most frames out at once (SYNs sent, replies not yet back); default 4096, a NIC rx ring's "
                    "depth; 0: as many as the ring pair holds (65536 each way)",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 0, 1u << 20, x, e)) {
                            return false;
                        }
                        o.in_flight = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"plain-syn", false, "SYNs with MSS only (default: MSS, SACK, timestamps, window scale as Linux)",
                    [&](std::string_view, std::string&) {
                        o.plain_syn = true;
                        return true;
                    }});
    rows.push_back({"nic-rx-cksum", false, "mark SYN checksums verified, as a NIC with rx offload would",
                    [&](std::string_view, std::string&) {
                        o.nic_rx_cksum = true;
                        return true;
                    }});
    rows.push_back({"only", true, "floor|fg|kernel  run one part only", [&](std::string_view v, std::string& e) {
                        if (v != "floor" && v != "fg" && v != "kernel") {
                            e = "expected floor, fg or kernel";
                            return false;
                        }
                        o.only = std::string(v);
                        return true;
                    }});
    rows.push_back({"no-kernel", false, "skip the Linux kernel baseline (it needs root and network namespaces)",
                    [&](std::string_view, std::string&) {
                        o.kernel = false;
                        return true;
                    }});
    rows.push_back({"mbufs", true, "N  size of the mbuf pool (made before any port); default: drivers-glue's (65535)",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 4095, 1u << 24, x, e)) {
                            return false;
                        }
                        o.mbufs = uint32_t(x);
                        return true;
                    }});
    const int early = apps::parse_args("bench-e2e-synflood",
                                       "SYN-cookie SYN-ACKs per second of one Floodgate lcore vs the raw port "
                                       "floor (rx, swap MACs, tx), one blaster lcore, one run.",
                                       rows, o.b.help, o.b.version, argc, argv);
    if (early >= 0) {
        return early;
    }
    std::string err;
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 1024, err, o.b.ports);
    if (!rt) {
        std::fprintf(stderr, "bench-e2e-synflood: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    if (o.mbufs != 0 && glue::mbuf_pool(0, o.mbufs, err) == nullptr) {
        std::fprintf(stderr, "%s: %s\n", "bench-e2e-synflood", err.c_str());
        return 1;
    }
    // Two lcores: the blaster on the main one, the responder (or the floor's
    // reflector) on the next. One lcore: both on it, taking turns.
    const unsigned next_lc = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    const bool one_lcore = rte_lcore_count() < 2 || next_lc >= RTE_MAX_LCORE;
    const unsigned peer = one_lcore ? rte_get_main_lcore() : next_lc;
    std::printf("bench-e2e-synflood: %s, load average %s, %u flows, %s SYNs, rx checksums %s%s\n",
                eal.hugepages ? "hugepages" : "no hugepages", e2e::load_average().c_str(), o.flows,
                o.plain_syn ? "MSS-only" : "Linux-option", o.nic_rx_cksum ? "marked good (NIC offload)" : "verified in software",
                one_lcore ? "; ONE lcore: the blaster and the responder take turns on it (the responder's CPU time is "
                            "its share of the loop; each SYN it reads was just written on the same core, warm in "
                            "cache: this flatters the floor and the responder -- quote -l 0-1)"
                          : "");
    char peer_name[64];
    if (one_lcore) {
        std::snprintf(peer_name, sizeof(peer_name), "the same lcore %u (taking turns)", peer);
    } else {
        std::snprintf(peer_name, sizeof(peer_name), "lcore %u", peer);
    }
    phase_result floor;
    phase_result fgr;
    uint64_t cookies = 0;
    uint64_t refused = 0;
    if (o.only == "" || o.only == "floor") {
        std::printf("floor: blaster lcore %u -> %s -> %s rx, swap MACs, tx (%s frames in flight)\n",
                    rte_get_main_lcore(), apps::pair_kind_name(o.b.ports), peer_name,
                    o.in_flight ? std::to_string(o.in_flight).c_str() : "unbounded");
        floor = run_floor(*rt, o, peer);
        if (!floor.ok) {
            return 1;
        }
        std::printf("    floor: %s replies/s over %.2f s (blaster sent %s/s)\n",
                    e2e::fmt_rate(floor.replies_per_s()).c_str(), floor.seconds,
                    e2e::fmt_rate(double(floor.syn_sent) / floor.seconds).c_str());
    }
    if (o.only == "" || o.only == "fg") {
        std::printf("fg: blaster lcore %u -> %s -> %s Floodgate stack, cookies always (%s frames in flight)\n",
                    rte_get_main_lcore(), apps::pair_kind_name(o.b.ports), peer_name,
                    o.in_flight ? std::to_string(o.in_flight).c_str() : "unbounded");
        fgr = run_fg(*rt, o, peer, cookies, refused);
        if (!fgr.ok) {
            return 1;
        }
        if (one_lcore) {
            std::printf("    fg: %s SYN-ACKs/s over %.2f s (other replies %lu, blaster sent %s/s); the shared lcore's "
                        "thread ran %.0f%% of that time, %.0f%% of its loop in the responder: %.2f s of responder CPU "
                        "time, %s SYN-ACKs per second of it\n",
                        e2e::fmt_rate(fgr.synacks_per_s()).c_str(), fgr.seconds,
                        (unsigned long)(fgr.replies - fgr.synacks),
                        e2e::fmt_rate(double(fgr.syn_sent) / fgr.seconds).c_str(), 100 * fgr.thread_cpu_s / fgr.seconds,
                        100 * fgr.peer_share, fgr.peer_cpu_s, e2e::fmt_rate(fgr.synacks_per_cpu_s()).c_str());
        } else {
            std::printf("    fg: %s SYN-ACKs/s over %.2f s (other replies %lu, blaster sent %s/s); the responder lcore's "
                        "thread ran %.0f%% of that time: %s SYN-ACKs per second of its CPU time\n",
                        e2e::fmt_rate(fgr.synacks_per_s()).c_str(), fgr.seconds,
                        (unsigned long)(fgr.replies - fgr.synacks),
                        e2e::fmt_rate(double(fgr.syn_sent) / fgr.seconds).c_str(), 100 * fgr.peer_cpu_s / fgr.seconds,
                        e2e::fmt_rate(fgr.synacks_per_cpu_s()).c_str());
        }
    }
    e2e::kernel_synflood_result kr;
    if ((o.only == "" && o.kernel) || o.only == "kernel") {
        e2e::kernel_synflood_config kc;
        kc.seconds = o.b.seconds;
        kc.flows = o.flows;
        kc.linux_options = !o.plain_syn;
        kc.cpu = rte_lcore_to_cpu_id(int(peer));
        std::printf("kernel: blaster thread (AF_PACKET, sendmmsg) on CPU %u -> veth -> the Linux kernel in a network "
                    "namespace, cookies always; then the same blast dropped at ingress\n",
                    kc.cpu);
        std::fflush(stdout);
        kr = e2e::run_kernel_synflood(kc);
        if (!kr.ran) {
            std::printf("    kernel baseline NOT measured: %s; Floodgate vs the floor only\n", kr.why.c_str());
        } else {
            for (const auto& [name, ph] : {std::pair{"listen", &kr.listen}, {"drop", &kr.drop}}) {
                if (!ph->ok) {
                    continue;
                }
                std::printf("    kernel %-6s %lu SYNs in %.2f s (%s/s): %.2f s CPU (blaster thread %.2f + ksoftirqd %.2f) "
                            "= %.0f ns per SYN; SYNs into the kernel %lu, cookie SYN-ACKs %lu (sent %lu), veth drops "
                            "%lu\n",
                            name, (unsigned long)ph->sent, ph->wall_s, e2e::fmt_rate(double(ph->sent) / ph->wall_s).c_str(),
                            ph->cpu_s(), ph->thread_cpu_s, ph->ksoftirqd_cpu_s, ph->ns_per_syn(),
                            (unsigned long)ph->delivered, (unsigned long)ph->cookies, (unsigned long)ph->synacks,
                            (unsigned long)ph->veth_drops);
            }
            if (kr.valid()) {
                std::printf("    kernel: %.0f ns of CPU per SYN-cookie SYN-ACK = %.3f Mpps per core\n",
                            kr.ns_per_synack(), kr.mpps_per_core());
            } else {
                std::printf("    kernel baseline NOT measured: %s\n",
                            kr.why.empty() ? "the listen phase cost no more than the drop phase" : kr.why.c_str());
            }
        }
    }
    if (floor.ok && fgr.ok && floor.replies_per_s() > 0) {
        std::printf("RATIO Floodgate SYN-ACKs / %s floor: %.2f (%.2f Mpps / %.2f Mpps); load average now %s\n",
                    o.b.ports == apps::pair_kind::ring ? "ring" : "vhost", fgr.synacks_per_s() / floor.replies_per_s(), fgr.synacks_per_s() / 1e6,
                    floor.replies_per_s() / 1e6, e2e::load_average().c_str());
    }
    if (fgr.ok && kr.valid()) {
        // Both per second of CPU time (the kernel's cannot be had otherwise on
        // a shared machine); the wall-clock figure beside it.
        std::printf("RATIO Floodgate SYN-ACKs per lcore / kernel per core: %.1fx (%.2f Mpps / %.3f Mpps, per second of "
                    "CPU time; wall clock %.2f Mpps with the %s on a CPU %.0f%% of the time); load average now %s\n",
                    fgr.synacks_per_cpu_s() / 1e6 / kr.mpps_per_core(), fgr.synacks_per_cpu_s() / 1e6,
                    kr.mpps_per_core(), fgr.synacks_per_s() / 1e6,
                    one_lcore ? "responder (its share of the lcore it shares with the blaster)" : "lcore",
                    100 * fgr.peer_cpu_s / fgr.seconds, e2e::load_average().c_str());
    }
    if (!o.b.json.empty()) {
        apps::json_object j;
        j.add("bench", std::string("e2e-synflood"));
        j.add("hugepages", uint64_t(eal.hugepages));
        j.add("load_average", e2e::load_average());
        j.add("ports", std::string(apps::pair_kind_name(o.b.ports)));
        j.add("lcores", uint64_t(one_lcore ? 1 : 2));
        if (floor.ok) {
            j.add("floor_replies_per_s", floor.replies_per_s());
        }
        if (fgr.ok) {
            j.add("fg_synacks_per_s", fgr.synacks_per_s());
            j.add("fg_cookies_sent", cookies);
            j.add("fg_tx_refused", refused);
        }
        if (floor.ok && fgr.ok && floor.replies_per_s() > 0) {
            j.add("ratio", fgr.synacks_per_s() / floor.replies_per_s());
        }
        if (fgr.ok) {
            j.add("fg_lcore_cpu_share", fgr.seconds > 0 ? fgr.peer_cpu_s / fgr.seconds : 0);
            j.add("fg_synacks_per_cpu_s", fgr.synacks_per_cpu_s());
        }
        j.add("kernel_measured", uint64_t(kr.valid()));
        if (!kr.valid() && !kr.why.empty()) {
            j.add("kernel_not_measured", kr.why);
        }
        if (kr.valid()) {
            j.add("kernel_ns_per_synack", kr.ns_per_synack());
            j.add("kernel_mpps_per_core", kr.mpps_per_core());
            j.add("kernel_listen_ns_per_syn", kr.listen.ns_per_syn());
            j.add("kernel_drop_ns_per_syn", kr.drop.ns_per_syn());
            j.add("kernel_cookies_sent", kr.listen.cookies);
            j.add("kernel_syns_sent", kr.listen.sent);
            if (fgr.ok) {
                j.add("ratio_kernel", fgr.synacks_per_cpu_s() / 1e6 / kr.mpps_per_core());
                j.add("ratio_kernel_wall", fgr.synacks_per_s() / 1e6 / kr.mpps_per_core());
            }
        }
        if (!j.write(o.b.json, err)) {
            std::fprintf(stderr, "bench-e2e-synflood: %s\n", err.c_str());
        }
    }
    return 0;
}
