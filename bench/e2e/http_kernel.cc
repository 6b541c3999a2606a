#include "http_kernel.hh"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "e2e.hh"

namespace fg::e2e {

namespace {

void linger0(int fd)
{
    const linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

// Progress of one connection (index: its fd).
struct fd_state {
    uint32_t in = 0;   // bytes read so far (request on the server, response on the client)
    uint32_t out = 0;  // bytes written so far
    bool open = false;
};

void raise_fd_limit()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

} // namespace

kernel_http_result run_kernel_http(double seconds, uint32_t inflight, const std::string& request,
                                   const std::string& response, unsigned client_cpu, unsigned server_cpu)
{
    kernel_http_result r;
    raise_fd_limit();
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) {
        std::perror("socket");
        return r;
    }
    const int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(lfd, 65535) != 0) {
        std::perror("bind/listen");
        close(lfd);
        return r;
    }
    socklen_t sl = sizeof(sa);
    getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &sl);

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> completed{0};
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> cerr{0};
    std::atomic<uint64_t> serr{0};
    const uint32_t req_len = uint32_t(request.size());
    const uint32_t resp_len = uint32_t(response.size());

    std::thread server([&] {
        pin_this_thread(server_cpu);
        const int ep = epoll_create1(0);
        epoll_event lev{};
        lev.events = EPOLLIN;
        lev.data.fd = lfd;
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
        std::vector<fd_state> st(1u << 17);
        std::vector<epoll_event> evs(512);
        char buf[4096];
        auto done = [&](int fd) {
            st[size_t(fd)] = fd_state{};
            close(fd); // also leaves the epoll set
        };
        while (!stop.load(std::memory_order_relaxed)) {
            const int n = epoll_wait(ep, evs.data(), int(evs.size()), 10);
            for (int i = 0; i < n; i++) {
                const int fd = evs[i].data.fd;
                if (fd == lfd) {
                    for (;;) {
                        const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
                        if (c < 0) {
                            break;
                        }
                        if (size_t(c) >= st.size()) {
                            serr.fetch_add(1, std::memory_order_relaxed);
                            close(c);
                            continue;
                        }
                        st[size_t(c)].open = true;
                        epoll_event ev{};
                        ev.events = EPOLLIN;
                        ev.data.fd = c;
                        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                    }
                    continue;
                }
                fd_state& s = st[size_t(fd)];
                const ssize_t got = read(fd, buf, sizeof(buf));
                if (got <= 0) {
                    if (got < 0 && errno == EAGAIN) {
                        continue;
                    }
                    if (s.in != 0 && s.in < req_len) {
                        serr.fetch_add(1, std::memory_order_relaxed);
                    }
                    done(fd); // the client closed (RST after its response): done
                    continue;
                }
                s.in += uint32_t(got);
                if (s.in >= req_len && s.out == 0) {
                    const ssize_t w = write(fd, response.data(), resp_len);
                    if (w != ssize_t(resp_len)) {
                        serr.fetch_add(1, std::memory_order_relaxed); // a small response fits the socket buffer
                        done(fd);
                        continue;
                    }
                    s.out = resp_len;
                    served.fetch_add(1, std::memory_order_relaxed);
                }
            }
        }
        for (size_t fd = 0; fd < st.size(); fd++) {
            if (st[fd].open) {
                close(int(fd));
            }
        }
        close(ep);
    });

    std::thread client([&] {
        pin_this_thread(client_cpu);
        const int ep = epoll_create1(0);
        std::vector<fd_state> st(1u << 17);
        std::vector<epoll_event> evs(512);
        std::vector<char> buf(std::max<uint32_t>(resp_len, 4096));
        uint32_t open = 0;
        auto end = [&](int fd) {
            st[size_t(fd)] = fd_state{};
            close(fd); // SO_LINGER 0: RST, no TIME-WAIT
            open--;
        };
        while (!stop.load(std::memory_order_relaxed)) {
            while (open < inflight) {
                const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fd < 0 || size_t(fd) >= st.size()) {
                    cerr.fetch_add(1, std::memory_order_relaxed);
                    if (fd >= 0) {
                        close(fd);
                    }
                    break;
                }
                linger0(fd);
                if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
                    cerr.fetch_add(1, std::memory_order_relaxed);
                    close(fd);
                    break;
                }
                st[size_t(fd)].open = true;
                epoll_event ev{};
                ev.events = EPOLLOUT | EPOLLIN;
                ev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                open++;
            }
            const int n = epoll_wait(ep, evs.data(), int(evs.size()), 10);
            for (int i = 0; i < n; i++) {
                const int fd = evs[i].data.fd;
                fd_state& s = st[size_t(fd)];
                if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                    cerr.fetch_add(1, std::memory_order_relaxed);
                    end(fd);
                    continue;
                }
                if ((evs[i].events & EPOLLOUT) && s.out == 0) {
                    const ssize_t w = write(fd, request.data(), req_len);
                    if (w != ssize_t(req_len)) {
                        cerr.fetch_add(1, std::memory_order_relaxed);
                        end(fd);
                        continue;
                    }
                    s.out = req_len;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.fd = fd;
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                }
                if (evs[i].events & EPOLLIN) {
                    const ssize_t got = read(fd, buf.data(), buf.size());
                    if (got <= 0) {
                        if (got < 0 && errno == EAGAIN) {
                            continue;
                        }
                        cerr.fetch_add(1, std::memory_order_relaxed);
                        end(fd);
                        continue;
                    }
                    s.in += uint32_t(got);
                    if (s.in >= resp_len) {
                        completed.fetch_add(1, std::memory_order_relaxed);
                        end(fd);
                    }
                }
            }
        }
        for (size_t fd = 0; fd < st.size(); fd++) {
            if (st[fd].open) {
                close(int(fd));
            }
        }
        close(ep);
    });

    const double t0 = now_s();
    uint64_t last = 0;
    for (double next = 1; next <= seconds + 1e-9; next += 1) {
        while (now_s() - t0 < next) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        const uint64_t c = completed.load(std::memory_order_relaxed);
        r.per_s.push_back(double(c - last));
        std::printf("  [kernel %4.1fs] HTTP exchanges %s/s, served %lu, client errors %lu, server errors %lu\n", next,
                    fmt_rate(double(c - last)).c_str(), (unsigned long)served.load(), (unsigned long)cerr.load(),
                    (unsigned long)serr.load());
        std::fflush(stdout);
        last = c;
    }
    stop.store(true);
    r.elapsed = now_s() - t0;
    r.completed = completed.load();
    client.join();
    server.join();
    close(lfd);
    r.served = served.load();
    r.client_errors = cerr.load();
    r.server_errors = serr.load();
    std::vector<double> steady(r.per_s.size() > 1 ? r.per_s.begin() + 1 : r.per_s.begin(), r.per_s.end());
    if (!steady.empty()) {
        std::sort(steady.begin(), steady.end());
        r.median = steady[steady.size() / 2];
    }
    r.ok = true;
    return r;
}

} // namespace fg::e2e
