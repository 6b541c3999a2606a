#include "kernel_synflood.hh"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "base/tuple.hh"
#include "common/runtime.hh"

namespace fg::e2e {

namespace {

constexpr unsigned batch = 64;             // frames per sendmmsg()
constexpr uint32_t frame_max = 128;        // a SYN with every option fits in 78 bytes
const rte_ether_addr mac_a{{0x02, 0x46, 0x47, 0x53, 0x46, 0x0a}}; // blaster end
const rte_ether_addr mac_b{{0x02, 0x46, 0x47, 0x53, 0x46, 0x0b}}; // kernel end

std::string mac_str(const rte_ether_addr& m)
{
    char b[24];
    std::snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0], m.addr_bytes[1], m.addr_bytes[2],
                  m.addr_bytes[3], m.addr_bytes[4], m.addr_bytes[5]);
    return b;
}

// Runs a shell command; its output (stdout and stderr) in `out`. True on exit 0.
bool sh(const std::string& cmd, std::string* out = nullptr)
{
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        return false;
    }
    std::string o;
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) {
        o += buf;
    }
    const int st = pclose(p);
    if (out != nullptr) {
        while (!o.empty() && (o.back() == '\n' || o.back() == ' ')) {
            o.pop_back();
        }
        *out = o;
    }
    return st == 0;
}

// Runs fn on a new thread that has joined network namespace `ns` (the
// calling thread's namespace is left alone). False if setns() failed.
bool in_ns(const std::string& ns, const std::function<void()>& fn)
{
    const int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = false;
    std::thread t([&] {
        if (setns(fd, CLONE_NEWNET) == 0) {
            ok = true;
            fn();
        }
    });
    t.join();
    close(fd);
    return ok;
}

struct dev_counters {
    uint64_t rx_packets = 0, rx_dropped = 0, tx_packets = 0, tx_dropped = 0;
};

// One interface's counters from /proc/net/dev of the calling thread's namespace.
dev_counters read_dev(const std::string& ifname)
{
    dev_counters d;
    std::ifstream f("/proc/thread-self/net/dev");
    std::string line;
    while (std::getline(f, line)) {
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name != ifname) {
            continue;
        }
        std::istringstream s(line.substr(colon + 1));
        uint64_t v[16] = {};
        for (auto& x : v) {
            s >> x;
        }
        // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop ...
        d.rx_packets = v[1];
        d.rx_dropped = v[3];
        d.tx_packets = v[9];
        d.tx_dropped = v[11];
    }
    return d;
}

// A TcpExt counter from /proc/net/netstat of the calling thread's namespace.
uint64_t read_tcpext(const char* name)
{
    std::ifstream f("/proc/thread-self/net/netstat");
    std::string keys;
    std::string vals;
    while (std::getline(f, keys) && std::getline(f, vals)) {
        if (keys.rfind("TcpExt:", 0) != 0) {
            continue;
        }
        std::istringstream k(keys);
        std::istringstream v(vals);
        std::string kk;
        std::string vv;
        while (k >> kk && v >> vv) {
            if (kk == name) {
                return std::strtoull(vv.c_str(), nullptr, 10);
            }
        }
    }
    return 0;
}

double clock_s(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// The two namespaces and the veth pair; removed (with everything in them)
// by the destructor, so every return path cleans up.
class netns_pair {
public:
    netns_pair()
    {
        const std::string p = std::to_string(getpid());
        client = "fgsfc-" + p;
        server = "fgsfs-" + p;
        veth_a = "fgsfa" + p;
        veth_b = "fgsfb" + p;
    }
    ~netns_pair()
    {
        if (_made_client) {
            sh("ip netns del " + client);
        }
        if (_made_server) {
            sh("ip netns del " + server);
        }
    }
    netns_pair(const netns_pair&) = delete;
    netns_pair& operator=(const netns_pair&) = delete;

    // Removes namespaces a killed earlier run of this bench left behind (its pid is gone).
    static void sweep_stale()
    {
        DIR* d = opendir("/run/netns");
        if (d == nullptr) {
            return;
        }
        std::vector<std::string> stale;
        while (dirent* e = readdir(d)) {
            const std::string n = e->d_name;
            if (n.rfind("fgsfc-", 0) != 0 && n.rfind("fgsfs-", 0) != 0) {
                continue;
            }
            const pid_t pid = pid_t(std::atoi(n.c_str() + 6));
            if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
                stale.push_back(n);
            }
        }
        closedir(d);
        for (const std::string& n : stale) {
            sh("ip netns del " + n);
        }
    }

    bool create(std::string& why)
    {
        std::string out;
        if (!sh("ip netns add " + client, &out)) {
            why = "cannot create a network namespace (" + out + ")";
            return false;
        }
        _made_client = true;
        if (!sh("ip netns add " + server, &out)) {
            why = "cannot create a network namespace (" + out + ")";
            return false;
        }
        _made_server = true;
        const std::string steps[] = {
            "ip -n " + client + " link add " + veth_a + " address " + mac_str(mac_a) + " type veth peer name " + veth_b +
                " address " + mac_str(mac_b) + " netns " + server,
            "ip -n " + client + " link set lo up",
            "ip -n " + client + " link set " + veth_a + " up",
            // Whatever comes back (the kernel's SYN-ACKs) is dropped as it arrives.
            "ip netns exec " + client + " nft add table netdev fgsf",
            "ip netns exec " + client + " nft add chain netdev fgsf in '{ type filter hook ingress device " + veth_a +
                " priority -500; policy drop; }'",
            "ip -n " + server + " link set lo up",
            "ip -n " + server + " addr add 198.18.0.2/16 dev " + veth_b,
            "ip -n " + server + " link set " + veth_b + " up",
            "ip -n " + server + " neigh add 198.18.0.1 lladdr " + mac_str(mac_a) + " dev " + veth_b + " nud permanent",
            "ip -n " + server + " route add 198.19.0.0/16 via 198.18.0.1 dev " + veth_b,
            "ip netns exec " + server +
                " sysctl -qw net.ipv4.tcp_syncookies=2 net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535",
        };
        for (const std::string& s : steps) {
            if (!sh(s, &out)) {
                why = "set-up step failed: " + s + ": " + out;
                return false;
            }
        }
        return true;
    }

    // The drop phase's rule: every frame into the kernel's end dropped at ingress.
    bool drop_all(bool on, std::string& why)
    {
        std::string out;
        const std::string nft = "ip netns exec " + server + " nft ";
        const std::vector<std::string> cmds =
            on ? std::vector<std::string>{nft + "add table netdev fgsfdrop",
                                          nft + "add chain netdev fgsfdrop in '{ type filter hook ingress device " +
                                              veth_b + " priority -500; policy drop; }'"}
               : std::vector<std::string>{nft + "delete table netdev fgsfdrop"};
        for (const std::string& cmd : cmds) {
            if (!sh(cmd, &out)) {
                why = cmd + ": " + out;
                return false;
            }
        }
        return true;
    }

    std::string client, server, veth_a, veth_b;

private:
    bool _made_client = false;
    bool _made_server = false;
};

struct ns_snapshot {
    dev_counters b;
    dev_counters a;
    uint64_t cookies = 0;
};

bool snapshot(const netns_pair& ns, ns_snapshot& s)
{
    return in_ns(ns.server, [&] {
               s.b = read_dev(ns.veth_b);
               s.cookies = read_tcpext("SyncookiesSent");
           }) &&
           in_ns(ns.client, [&] { s.a = read_dev(ns.veth_a); });
}

// The blaster thread: pinned, in the client namespace, sendmmsg() until stop.
struct blaster {
    std::atomic<bool> stop{false};
    std::atomic<bool> ready{false};
    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> send_errors{0};
    std::string error; // set before ready when it could not start
    std::thread t;

    void run(const netns_pair& ns, const kernel_synflood_config& c)
    {
        t = std::thread([this, &ns, c] { loop(ns, c); });
        while (!ready.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    void join()
    {
        stop.store(true);
        if (t.joinable()) {
            t.join();
        }
    }
    ~blaster() { join(); }

private:
    void loop(const netns_pair& ns, const kernel_synflood_config& c)
    {
        int fd = -1;
        auto fail = [&](const std::string& what) {
            error = what + ": " + std::strerror(errno);
            if (fd >= 0) {
                close(fd);
            }
            ready.store(true);
        };
        if (!pin_this_thread(c.cpu)) {
            return fail("cannot pin the blaster to CPU " + std::to_string(c.cpu));
        }
        const int nsfd = open(("/run/netns/" + ns.client).c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
            if (nsfd >= 0) {
                close(nsfd);
            }
            return fail("cannot enter " + ns.client);
        }
        close(nsfd);
        fd = socket(AF_PACKET, SOCK_RAW, 0); // protocol 0: sends only, receives nothing
        if (fd < 0) {
            return fail("AF_PACKET socket");
        }
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_ifindex = int(if_nametoindex(ns.veth_a.c_str()));
        if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
            return fail("bind to " + ns.veth_a);
        }
        const int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
        syn_spec s;
        s.src_mac = mac_a;
        s.dst_mac = mac_b;
        s.dst_ip = ipv4(198, 18, 0, 2);
        s.dst_port = 80;
        s.src_ip_base = ipv4(198, 19, 0, 0);
        s.n_src_ips = 65536;
        s.src_port_base = 1024;
        s.linux_options = c.linux_options;
        const uint32_t flows = std::max<uint32_t>(c.flows, batch);
        std::vector<uint8_t> table(std::size_t(flows) * frame_max);
        std::vector<uint32_t> lens(flows);
        for (uint32_t i = 0; i < flows; i++) {
            lens[i] = make_syn(s, i, &table[std::size_t(i) * frame_max]);
        }
        iovec iov[batch];
        mmsghdr msgs[batch];
        std::memset(msgs, 0, sizeof(msgs));
        for (unsigned i = 0; i < batch; i++) {
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        uint32_t next = 0;
        ready.store(true);
        while (!stop.load(std::memory_order_relaxed)) {
            for (unsigned i = 0; i < batch; i++) {
                const uint32_t k = (next + i) % flows;
                iov[i].iov_base = &table[std::size_t(k) * frame_max];
                iov[i].iov_len = lens[k];
            }
            const int n = sendmmsg(fd, msgs, batch, 0);
            if (n < 0) {
                send_errors.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            next = (next + uint32_t(n)) % flows;
            sent.fetch_add(uint64_t(n), std::memory_order_relaxed);
        }
        close(fd);
    }
};

// One phase: blast for warmup + seconds; measure the window after warmup.
kernel_phase run_phase(const char* name, const netns_pair& ns, const kernel_synflood_config& c, pid_t ksoftirqd,
                       std::string& why)
{
    kernel_phase r;
    blaster b;
    b.run(ns, c);
    if (!b.error.empty()) {
        why = b.error;
        return r;
    }
    clockid_t cid{};
    if (pthread_getcpuclockid(b.t.native_handle(), &cid) != 0) {
        why = "no CPU clock for the blaster thread";
        return r;
    }
    auto sleep_until = [](double t) {
        while (now_s() < t && !apps::stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    };
    const double t0 = now_s();
    sleep_until(t0 + c.warmup_s);
    ns_snapshot s0;
    ns_snapshot s1;
    if (!snapshot(ns, s0)) {
        why = "cannot read the namespaces' counters";
        return r;
    }
    const double w0 = now_s();
    const double cpu0 = clock_s(cid);
    const uint64_t k0 = schedstat_ns(ksoftirqd);
    const uint64_t n0 = b.sent.load();
    uint64_t last_n = n0;
    double last_cpu = cpu0;
    uint64_t last_cookies = s0.cookies;
    for (double t = 1; t <= c.seconds + 1e-9 && !apps::stop_requested(); t += 1) {
        sleep_until(w0 + t);
        const uint64_t n = b.sent.load();
        const double cpu = clock_s(cid);
        ns_snapshot s;
        snapshot(ns, s);
        std::printf("  [kernel %-6s %4.1fs] SYNs %s/s, cookie SYN-ACKs %s/s, blaster thread on CPU %u %.0f%% of the "
                    "time\n",
                    name, t, fmt_rate(double(n - last_n)).c_str(), fmt_rate(double(s.cookies - last_cookies)).c_str(),
                    c.cpu, 100 * (cpu - last_cpu));
        std::fflush(stdout);
        last_n = n;
        last_cpu = cpu;
        last_cookies = s.cookies;
    }
    const double cpu1 = clock_s(cid);
    const uint64_t k1 = schedstat_ns(ksoftirqd);
    const uint64_t n1 = b.sent.load();
    const double w1 = now_s();
    if (!snapshot(ns, s1)) {
        why = "cannot read the namespaces' counters";
        return r;
    }
    b.join();
    r.wall_s = w1 - w0;
    r.sent = n1 - n0;
    r.delivered = s1.b.rx_packets - s0.b.rx_packets;
    r.synacks = s1.b.tx_packets - s0.b.tx_packets;
    r.cookies = s1.cookies - s0.cookies;
    r.veth_drops = (s1.b.rx_dropped - s0.b.rx_dropped) + (s1.a.tx_dropped - s0.a.tx_dropped);
    r.thread_cpu_s = cpu1 - cpu0;
    r.ksoftirqd_cpu_s = double(k1 - k0) * 1e-9;
    r.ok = r.sent > 0 && r.thread_cpu_s > 0;
    if (!r.ok) {
        why = std::string(name) + ": the blaster sent nothing";
    }
    return r;
}

} // namespace

kernel_synflood_result run_kernel_synflood(const kernel_synflood_config& c)
{
    kernel_synflood_result r;
    r.cpu = c.cpu;
    if (geteuid() != 0) {
        r.why = "not root (network namespaces, veth and AF_PACKET need root)";
        return r;
    }
    struct stat st{};
    if (stat("/proc/thread-self/ns/net", &st) != 0) {
        r.why = "this kernel has no network namespaces";
        return r;
    }
    netns_pair::sweep_stale();
    netns_pair ns;
    if (!ns.create(r.why)) {
        return r;
    }
    r.ran = true;
    const pid_t ks = ksoftirqd_pid(c.cpu);
    std::printf("  kernel: namespaces %s (blaster, %s) and %s (listener 198.18.0.2:80 on %s, tcp_syncookies=2); "
                "blaster pinned to CPU %u%s\n",
                ns.client.c_str(), ns.veth_a.c_str(), ns.server.c_str(), ns.veth_b.c_str(), c.cpu,
                ks != 0 ? (", ksoftirqd/" + std::to_string(c.cpu) + " pid " + std::to_string(ks)).c_str()
                        : ", ksoftirqd not found (its time is left out)");
    std::fflush(stdout);

    // listen: a listener in the server namespace (never accept()ed: cookies keep no state).
    int lfd = -1;
    int lerr = 0;
    in_ns(ns.server, [&] {
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        lerr = errno;
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(ipv4(198, 18, 0, 2));
        sa.sin_port = htons(80);
        if (lfd >= 0 && (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(lfd, 65535) != 0)) {
            lerr = errno;
            close(lfd);
            lfd = -1;
        }
    });
    if (lfd < 0) {
        r.why = std::string("cannot listen on 198.18.0.2:80 in ") + ns.server + ": " + std::strerror(lerr);
        return r;
    }
    r.listen = run_phase("listen", ns, c, ks, r.why);
    close(lfd);
    if (apps::stop_requested()) {
        r.why = "interrupted";
        r.drop.ok = false;
        return r;
    }
    if (!r.listen.ok) {
        return r;
    }
    // drop: no listener, every frame dropped at the kernel end's ingress.
    if (!ns.drop_all(true, r.why)) {
        return r;
    }
    r.drop = run_phase("drop", ns, c, ks, r.why);
    if (apps::stop_requested()) {
        r.why = "interrupted";
        r.drop.ok = false;
    }
    return r;
}

} // namespace fg::e2e
