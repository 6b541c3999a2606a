#include "e2e.hh"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_pause.h>
#include <rte_tcp.h>

#include "base/steer.hh"
#include "base/tuple.hh"
#include "eal.hh"
#include "net/tcp_hdr.hh"
#include "port.hh"

namespace fg::e2e {

namespace {
constexpr uint16_t burst = 32;             // l2fwd's MAX_PKT_BURST, as the stack uses
constexpr uint32_t pend_cap = blaster_pend;
constexpr uint32_t frame_max = 128;        // a SYN with every option fits in 78 bytes
constexpr uint32_t tcp_flags_off = 14 + 20 + 13; // Ethernet + IPv4 (no options) + TCP offset of the flags byte
constexpr uint8_t synack_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint64_t rx_good = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;

// Reply kinds by the TCP flags byte of a frame our stack sent (IPv4 without options).
inline uint8_t flags_of(const rte_mbuf* m)
{
    return m->data_len > tcp_flags_off ? rte_pktmbuf_mtod(m, const uint8_t*)[tcp_flags_off] : 0;
}

inline void set_frame(rte_mbuf* m, const uint8_t* src, uint32_t len, bool rx_cksum_good)
{
    rte_memcpy(rte_pktmbuf_mtod(m, uint8_t*), src, len);
    m->data_len = uint16_t(len);
    m->pkt_len = len;
    m->ol_flags = rx_cksum_good ? rx_good : 0;
    m->packet_type = 0;
}

// Sends what the ring takes; keeps the rest at the front of pend.
inline void tx_pending(uint16_t port, rte_mbuf** pend, uint32_t& np, blaster_stats& out)
{
    if (np == 0) {
        return;
    }
    const uint16_t sent = rte_eth_tx_burst(port, 0, pend, uint16_t(std::min<uint32_t>(np, UINT16_MAX)));
    if (sent < np) {
        std::memmove(pend, pend + sent, (np - sent) * sizeof(rte_mbuf*));
        out.tx_retries.store(out.tx_retries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    np -= sent;
}

inline void bump(std::atomic<uint64_t>& a, uint64_t n)
{
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
} // namespace

proc_mem read_proc_mem()
{
    proc_mem m;
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            m.rss_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
        } else if (line.rfind("VmHWM:", 0) == 0) {
            m.hwm_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
        } else if (line.rfind("HugetlbPages:", 0) == 0) {
            m.hugetlb_kb = std::strtoull(line.c_str() + 13, nullptr, 10);
        }
    }
    return m;
}

std::string load_average()
{
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

unsigned hugepages_2m_total()
{
    std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    unsigned n = 0;
    f >> n;
    return n;
}

bool pin_this_thread(unsigned cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

pid_t ksoftirqd_pid(unsigned cpu)
{
    const std::string want = "ksoftirqd/" + std::to_string(cpu);
    DIR* d = opendir("/proc");
    if (d == nullptr) {
        return 0;
    }
    pid_t found = 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') {
            continue;
        }
        std::ifstream f(std::string("/proc/") + e->d_name + "/comm");
        std::string comm;
        if (std::getline(f, comm) && comm == want) {
            found = pid_t(std::atoi(e->d_name));
            break;
        }
    }
    closedir(d);
    return found;
}

uint64_t schedstat_ns(pid_t tid)
{
    if (tid == 0) {
        return 0;
    }
    std::ifstream f("/proc/" + std::to_string(tid) + "/schedstat");
    uint64_t ns = 0;
    f >> ns;
    return ns;
}

std::vector<pid_t> lcore_tids(const std::vector<unsigned>& lcores)
{
    std::vector<pid_t> out(lcores.size(), 0);
    DIR* d = opendir("/proc/self/task");
    std::vector<std::pair<std::string, pid_t>> tasks;
    if (d != nullptr) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') {
                continue;
            }
            std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
            std::string comm;
            std::getline(f, comm);
            tasks.emplace_back(comm, pid_t(std::atoi(e->d_name)));
        }
        closedir(d);
    }
    for (std::size_t i = 0; i < lcores.size(); i++) {
        if (lcores[i] == rte_get_main_lcore()) {
            out[i] = getpid();
            continue;
        }
        // DPDK 22.11 names them rte-worker-<id>; earlier releases lcore-worker-<id>.
        const std::string id = std::to_string(lcores[i]);
        for (const auto& [comm, tid] : tasks) {
            if (comm == "rte-worker-" + id || comm == "lcore-worker-" + id) {
                out[i] = tid;
            }
        }
    }
    return out;
}

std::string fmt_rate(double r)
{
    char b[32];
    if (r >= 1e6) {
        std::snprintf(b, sizeof(b), "%.2fM", r / 1e6);
    } else if (r >= 1e3) {
        std::snprintf(b, sizeof(b), "%.1fk", r / 1e3);
    } else {
        std::snprintf(b, sizeof(b), "%.0f", r);
    }
    return b;
}

bool start_raw_port(uint16_t port_id, rte_ether_addr& mac, std::string& error)
{
    glue::port_config pc;
    pc.n_queues = 1;
    glue::port_info pi;
    if (!glue::port_start(port_id, pc, steering(1), pi, error)) {
        return false;
    }
    mac = pi.mac;
    return true;
}

bool raw_port_pair(apps::runtime& rt, apps::pair_kind kind, const std::string& name, uint16_t& pa, uint16_t& pb,
                   rte_ether_addr& ma, rte_ether_addr& mb, std::string& error)
{
    auto start_b = [&](uint16_t port, std::string& e) { return start_raw_port(port, mb, e); };
    return rt.port_pair(kind, name, 1, pa, pb, start_b, error) && start_raw_port(pa, ma, error);
}

uint16_t reflect_step(uint16_t port_id, reflector_stats& out)
{
    rte_mbuf* pkts[burst];
    const uint64_t t = rte_rdtsc();
    const uint16_t n = rte_eth_rx_burst(port_id, 0, pkts, burst);
    if (n == 0) {
        const uint64_t now = rte_rdtsc();
        out.tsc_idle += now - t;
        out.tsc_total += now - t;
        return 0;
    }
    for (uint16_t i = 0; i < n; i++) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*)); // as the stack's loop does (it prefetches 3 ahead)
    }
    for (uint16_t i = 0; i < n; i++) {
        auto* eth = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
        const rte_ether_addr a = eth->dst_addr;
        eth->dst_addr = eth->src_addr;
        eth->src_addr = a;
    }
    const uint16_t sent = rte_eth_tx_burst(port_id, 0, pkts, n);
    if (sent < n) {
        rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
    }
    out.rx += n;
    out.tx += sent;
    out.dropped += n - sent;
    out.tsc_total += rte_rdtsc() - t;
    return n;
}

void reflect_loop(uint16_t port_id, const std::atomic<bool>& stop, reflector_stats& out)
{
    while (!stop.load(std::memory_order_relaxed)) {
        reflect_step(port_id, out);
    }
}

uint32_t make_syn(const syn_spec& s, uint64_t i, uint8_t* buf)
{
    const uint32_t src = s.src_ip_base + uint32_t(i % s.n_src_ips);
    const uint16_t sport = uint16_t(s.src_port_base + i / s.n_src_ips);
    const tuple4 t = make_tuple4(src, sport, s.dst_ip, s.dst_port);
    net::tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    if (s.linux_options) {
        o.sack_ok = true;
        o.has_ts = true;
        o.ts_val = uint32_t(i * 7919u + 1);
        o.has_wscale = true;
        o.wscale = 7;
    }
    const uint32_t isn = uint32_t(i * 2654435761u) ^ 0x5a5a5a5au;
    return net::make_tcp_segment(buf, s.src_mac, s.dst_mac, t, isn, 0, RTE_TCP_SYN_FLAG, 64240, &o,
                                 net::cksum_mode::software);
}

bool synack_to_ack(rte_mbuf* m, bool rx_cksum_good)
{
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    if (m->data_len < 54) {
        return false;
    }
    auto* eth = reinterpret_cast<rte_ether_hdr*>(d);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(d + 14);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(d + 34);
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != 0x45 ||
        ip->next_proto_id != IPPROTO_TCP || tcp->tcp_flags != synack_flags) {
        return false;
    }
    const rte_ether_addr tm = eth->dst_addr;
    eth->dst_addr = eth->src_addr;
    eth->src_addr = tm;
    const rte_be32_t sip = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = sip;
    ip->total_length = rte_cpu_to_be_16(40);
    ip->hdr_checksum = 0;
    const rte_be16_t sport = tcp->src_port;
    tcp->src_port = tcp->dst_port;
    tcp->dst_port = sport;
    const uint32_t their_seq = rte_be_to_cpu_32(tcp->sent_seq);
    tcp->sent_seq = tcp->recv_ack;
    tcp->recv_ack = rte_cpu_to_be_32(their_seq + 1);
    tcp->data_off = 5 << 4;
    tcp->tcp_flags = RTE_TCP_ACK_FLAG;
    tcp->rx_win = rte_cpu_to_be_16(502);
    tcp->cksum = 0;
    tcp->tcp_urp = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
    m->data_len = 54;
    m->pkt_len = 54;
    m->ol_flags = rx_cksum_good ? rx_good : 0;
    m->packet_type = 0;
    return true;
}

flood_blaster::flood_blaster(const blaster_config& c)
    : _c(c), _flows(std::max<uint32_t>(1, c.flows)), _table(std::size_t(_flows) * frame_max), _lens(_flows)
{
    for (uint32_t i = 0; i < _flows; i++) {
        _lens[i] = uint8_t(make_syn(_c.syn, i, &_table[std::size_t(i) * frame_max]));
    }
}

flood_blaster::~flood_blaster()
{
    if (_np > 0) {
        rte_pktmbuf_free_bulk(_pend, _np);
    }
}

void flood_blaster::step(blaster_stats& out)
{
    const uint64_t t = rte_rdtsc();
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(_c.port_id, 0, rx, burst);
    if (n > 0) {
        uint64_t sa = 0;
        uint64_t rst = 0;
        for (uint16_t i = 0; i < n; i++) {
            rte_prefetch0(rte_pktmbuf_mtod(rx[i], void*));
        }
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t f = flags_of(rx[i]);
            sa += f == synack_flags;
            rst += (f & RTE_TCP_RST_FLAG) != 0;
            if (_np < pend_cap) {
                // The reply's mbuf becomes the next SYN.
                set_frame(rx[i], &_table[std::size_t(_next) * frame_max], _lens[_next], _c.syn.rx_cksum_good);
                _next = _next + 1 == _flows ? 0 : _next + 1;
                _pend[_np++] = rx[i];
            } else {
                rte_pktmbuf_free(rx[i]);
                _population--;
            }
        }
        bump(out.synack, sa);
        bump(out.rst, rst);
        bump(out.other, n - sa - rst);
    }
    // New frames while fewer than flood_in_flight are out: every reply is
    // reused for the next SYN, so the population only grows. Unbounded, it
    // fills the ring pair (65536 deep): each SYN then waits ~10 ms in it and
    // is cold in every cache when the responder reads it; a NIC's rx ring
    // (1-4 K descriptors) never holds that much.
    uint32_t room = _np < burst ? burst - _np : 0; // replies pending beyond a burst (a refusing port): none new
    if (_c.flood_in_flight != 0) {
        room = _population >= _c.flood_in_flight ? 0
                                                  : uint32_t(std::min<uint64_t>(room, _c.flood_in_flight - _population));
    }
    if (room > 0) {
        rte_mbuf* fresh[burst];
        const uint32_t want = room;
        if (rte_pktmbuf_alloc_bulk(_c.pool, fresh, want) == 0) {
            _population += want;
            for (uint32_t i = 0; i < want; i++) {
                set_frame(fresh[i], &_table[std::size_t(_next) * frame_max], _lens[_next], _c.syn.rx_cksum_good);
                _next = _next + 1 == _flows ? 0 : _next + 1;
                _pend[_np++] = fresh[i];
            }
        }
    }
    const uint32_t before = _np;
    tx_pending(_c.port_id, _pend, _np, out);
    bump(out.syn_sent, before - _np);
    const uint64_t now = rte_rdtsc();
    bump(out.tsc_total, now - t);
    if (n == 0 && _np == before) {
        bump(out.tsc_idle, now - t);
    }
}

void blast_flood(const blaster_config& c, const std::atomic<bool>& stop, blaster_stats& out)
{
    flood_blaster b(c);
    while (!stop.load(std::memory_order_relaxed)) {
        b.step(out);
    }
}

handshake_blaster::~handshake_blaster()
{
    if (_np > 0) {
        rte_pktmbuf_free_bulk(_pend, _np);
    }
}

bool handshake_blaster::step(blaster_stats& out)
{
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(_c.port_id, 0, rx, burst);
    if (n > 0) {
        uint64_t sa = 0;
        uint64_t rst = 0;
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t f = flags_of(rx[i]);
            if (f == synack_flags && _np < pend_cap && synack_to_ack(rx[i], _c.syn.rx_cksum_good)) {
                sa++;
                _pend[_np++] = rx[i];
                continue;
            }
            rst += (f & RTE_TCP_RST_FLAG) != 0;
            rte_pktmbuf_free(rx[i]);
        }
        _replies += n;
        bump(out.synack, sa);
        bump(out.acks_sent, sa);
        bump(out.rst, rst);
        bump(out.other, n - sa - rst);
    }
    const uint64_t in_flight = _built - _replies;
    if (_next < _c.connections && in_flight < _c.window && _np < burst) {
        const uint32_t want =
            uint32_t(std::min<uint64_t>({burst - _np, _c.window - in_flight, _c.connections - _next}));
        rte_mbuf* fresh[burst];
        if (rte_pktmbuf_alloc_bulk(_c.pool, fresh, want) == 0) {
            for (uint32_t i = 0; i < want; i++) {
                const uint32_t len = make_syn(_c.syn, _next++, rte_pktmbuf_mtod(fresh[i], uint8_t*));
                fresh[i]->data_len = uint16_t(len);
                fresh[i]->pkt_len = len;
                fresh[i]->ol_flags = _c.syn.rx_cksum_good ? rx_good : 0;
                _pend[_np++] = fresh[i];
            }
            _built += want;
            bump(out.syn_sent, want);
        }
    }
    tx_pending(_c.port_id, _pend, _np, out);
    if (_next == _c.connections && _built == _replies && _np == 0) {
        out.done.store(true, std::memory_order_release);
        return true;
    }
    return false;
}

void blast_handshakes(const blaster_config& c, const std::atomic<bool>& stop, blaster_stats& out)
{
    handshake_blaster b(c);
    while (!stop.load(std::memory_order_relaxed) && !b.step(out)) {
    }
}

void app_thread::start(core::stack& st, tcp::listener& l, app_close how)
{
    stop();
    _stop.store(false);
    _t = std::thread([this, &st, &l, how] { loop(st, l, how); });
}

double app_thread::cpu_s() const
{
    clockid_t id{};
    if (!_t.joinable() || pthread_getcpuclockid(const_cast<std::thread&>(_t).native_handle(), &id) != 0) {
        return 0;
    }
    timespec ts{};
    clock_gettime(id, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

void app_thread::stop()
{
    _stop.store(true);
    if (_t.joinable()) {
        _t.join();
    }
}

void app_thread::loop(core::stack& st, tcp::listener& l, app_close how)
{
    glue::unpin_this_thread(); // an application thread, not an lcore: any CPU
    constexpr unsigned n_burst = 32;
    tcp::event ev[n_burst];
    auto issue = [&](bool close, const tcp::handle& h) {
        while (!(close ? st.close(h) : st.abort(h))) {
            bump(_stats.cmd_retries, 1);
            if (_stop.load(std::memory_order_relaxed)) {
                return;
            }
            rte_pause();
        }
    };
    while (!_stop.load(std::memory_order_relaxed)) {
        unsigned got = l.accept_burst(ev, n_burst);
        for (unsigned i = 0; i < got; i++) {
            issue(how == app_close::fin, ev[i].h);
        }
        bump(_stats.taken, got);
        bump(_stats.commands, got);
        for (uint16_t idx = 0; idx < st.n_lcores(); idx++) {
            const unsigned n = st.poll_events(idx, ev, n_burst);
            got += n;
            for (unsigned i = 0; i < n; i++) {
                switch (ev[i].type) {
                case tcp::event_type::reset:
                    bump(_stats.resets, 1);
                    break;
                case tcp::event_type::closed:
                    bump(_stats.closed, 1);
                    break;
                case tcp::event_type::peer_closed:
                    bump(_stats.peer_closed, 1);
                    issue(true, ev[i].h);
                    break;
                default:
                    bump(_stats.other, 1);
                    break;
                }
            }
        }
        if (got == 0) {
            bump(_stats.idle, 1);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}

reconciliation reconcile(const char* what, const core::stack& client, const core::stack& responder,
                         const app_counts* app, bool drained)
{
    reconciliation r;
    const core::counter_set c = client.counters();
    const core::counter_set s = responder.counters();
    r.drained = drained;
    r.client_established = c[tcp::ctr::established];
    r.responder_accepted = s[tcp::ctr::accepted];
    r.responder_cookies = s[tcp::ctr::cookies_accepted];
    r.with_app = app != nullptr;
    r.app_taken = app != nullptr ? app->taken : 0;
    // Where a connection the client completed can be lost before the
    // responder accepts it (each an upper bound: a refused frame may have
    // been a SYN or an RST rather than a third ACK).
    uint64_t resp_drops = 0;
    s.visit([&](const core::block_info& b, unsigned, uint64_t v) {
        if (std::strcmp(b.name, "drops") == 0) {
            resp_drops += v;
        }
    });
    r.lost_counted = c[core::ctr::tx_dropped] + s[tcp::ctr::accept_queue_overflows] + s[tcp::ctr::cookies_rejected] +
                     s[tcp::ctr::pool_exhausted] + s[tcp::ctr::table_full] + resp_drops;
    r.ok = r.client_established == r.responder_accepted && r.responder_accepted == r.responder_cookies &&
           (!r.with_app || r.app_taken == r.responder_accepted);
    r.explained = !r.ok && r.client_established > r.responder_accepted &&
                  r.client_established - r.responder_accepted <= r.lost_counted &&
                  r.responder_accepted == r.responder_cookies && (!r.with_app || r.app_taken == r.responder_accepted);
    char app_part[96] = "";
    if (r.with_app) {
        std::snprintf(app_part, sizeof(app_part), " == taken by the application thread %lu", (unsigned long)r.app_taken);
    }
    if (r.ok) {
        std::printf("RECONCILED %s: client established %lu == responder accepted %lu (cookies accepted %lu)%s%s\n", what,
                    (unsigned long)r.client_established, (unsigned long)r.responder_accepted,
                    (unsigned long)r.responder_cookies, app_part, drained ? "" : " (NOT drained)");
        std::fflush(stdout);
        return r;
    }
    std::printf("\n!!!! MISMATCH %s: client established %lu, responder accepted %lu (cookies accepted %lu)%s%s: "
                "%+ld; %s\n",
                what, (unsigned long)r.client_established, (unsigned long)r.responder_accepted,
                (unsigned long)r.responder_cookies, r.with_app ? ", taken by the application thread " : "",
                r.with_app ? std::to_string(r.app_taken).c_str() : "",
                long(r.responder_accepted) - long(r.client_established),
                r.explained ? "explained by counted losses below" : "NOT explained by the counters below: a bug");
    if (!drained) {
        std::printf("!!!!   the run did not drain: connections were still in flight when the counters were read\n");
    }
    std::printf("!!!!   client: tx refused %lu, SYN retransmits %lu, timed out %lu, unacceptable SYN-ACKs %lu, "
                "mbuf alloc failed %lu, open %lu\n",
                (unsigned long)c[core::ctr::tx_dropped], (unsigned long)c[tcp::ctr::syn_retransmits],
                (unsigned long)c[tcp::ctr::timed_out], (unsigned long)c[tcp::ctr::synsent_bad_ack],
                (unsigned long)c[tcp::ctr::mbuf_alloc_failed], (unsigned long)client.conns_in_use());
    std::printf("!!!!   responder: tx refused %lu, accept ring overflows %lu, cookies rejected %lu, pool exhausted %lu, "
                "table full %lu, RSTs to the listener ignored %lu, ACKs to the listener answered with RST %lu, "
                "classifier drops %lu, open %lu\n",
                (unsigned long)s[core::ctr::tx_dropped], (unsigned long)s[tcp::ctr::accept_queue_overflows],
                (unsigned long)s[tcp::ctr::cookies_rejected], (unsigned long)s[tcp::ctr::pool_exhausted],
                (unsigned long)s[tcp::ctr::table_full], (unsigned long)s[tcp::ctr::listen_rst_ignored],
                (unsigned long)s[tcp::ctr::listen_ack_rst], (unsigned long)resp_drops,
                (unsigned long)responder.conns_in_use());
    auto nonzero = [](const char* side, const core::counter_set& cs) {
        std::string line;
        cs.visit([&](const core::block_info& b, unsigned i, uint64_t v) {
            if (v != 0) {
                line += " " + core::flat_key(b, i) + "=" + std::to_string(v);
            }
        });
        std::printf("!!!!   %s, every non-zero counter:%s\n", side, line.c_str());
    };
    nonzero("client", c);
    nonzero("responder", s);
    if (app != nullptr) {
        std::printf("!!!!   application thread: taken %lu, commands %lu (retried %lu), resets %lu, closed %lu, "
                    "peer FINs %lu\n",
                    (unsigned long)app->taken, (unsigned long)app->commands, (unsigned long)app->cmd_retries,
                    (unsigned long)app->resets, (unsigned long)app->closed, (unsigned long)app->peer_closed);
    }
    std::printf("\n");
    std::fflush(stdout);
    return r;
}

} // namespace fg::e2e
