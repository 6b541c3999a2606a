#include "options_fuzz.hh"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/options.hh"
#include "net/tcp_options.hh"
#include "tcp/negotiate.hh"

namespace fg::fuzz {
namespace {

// Linux net/ipv4/tcp_input.c tcp_parse_options() (window scaling, SACK and
// timestamps enabled, no MD5/TFO/SACK-block bookkeeping), written out again
// without lib/net's fast paths, as the reference.
net::tcp_options linux_parse(const uint8_t* ptr, int length, bool syn)
{
    net::tcp_options o;
    while (length > 0) {
        const int opcode = *ptr++;
        int opsize;
        switch (opcode) {
        case 0: // TCPOPT_EOL
            return o;
        case 1: // TCPOPT_NOP
            length--;
            continue;
        default:
            if (length < 2) {
                return o;
            }
            opsize = *ptr++;
            if (opsize < 2) {
                return o;
            }
            if (opsize > length) {
                return o;
            }
            switch (opcode) {
            case 2:
                if (opsize == 4 && syn) {
                    const uint16_t in_mss = uint16_t((ptr[0] << 8) | ptr[1]);
                    if (in_mss) {
                        o.has_mss = true;
                        o.mss = in_mss;
                    }
                }
                break;
            case 3:
                if (opsize == 3 && syn) {
                    o.has_wscale = true;
                    o.wscale = ptr[0] > 14 ? 14 : ptr[0];
                }
                break;
            case 8:
                if (opsize == 10) {
                    o.has_ts = true;
                    o.ts_val = (uint32_t(ptr[0]) << 24) | (uint32_t(ptr[1]) << 16) | (uint32_t(ptr[2]) << 8) | ptr[3];
                    o.ts_ecr = (uint32_t(ptr[4]) << 24) | (uint32_t(ptr[5]) << 16) | (uint32_t(ptr[6]) << 8) | ptr[7];
                }
                break;
            case 4:
                if (opsize == 2 && syn) {
                    o.sack_ok = true;
                }
                break;
            default:
                break;
            }
            ptr += opsize - 2;
            length -= opsize;
        }
    }
    return o;
}

} // namespace

const char* tcp_options_one(const uint8_t* data, size_t size)
{
    // At most 40 bytes of options (doff 15); an exact-size copy so reading
    // past them is caught by ASan.
    const size_t n = size > net::tcp_max_options_len ? net::tcp_max_options_len : size;
    std::vector<uint8_t> buf(data, data + n);
    for (bool syn : {true, false}) {
        net::tcp_options got;
        net::parse_tcp_options(buf.data(), uint32_t(n), syn, got);
        if (!(got == linux_parse(buf.data(), int(n), syn))) {
            return "parse_tcp_options differs from Linux's tcp_parse_options";
        }
        if (got.has_wscale && got.wscale > net::tcp_max_wscale) {
            return "window scale not clamped to 14";
        }
        if (got.has_mss && got.mss == 0) {
            return "MSS 0 taken";
        }
        uint8_t out[net::tcp_max_options_len];
        const uint32_t len = net::write_tcp_options(out, got);
        if (len != net::tcp_options_len(got) || len > 20 || (len & 3) != 0) {
            return "written options have the wrong length";
        }
        net::tcp_options back;
        net::parse_tcp_options(out, len, syn, back);
        if (!(back == got)) {
            return "options do not survive write + parse";
        }
        if (syn) {
            const tcp::syn_options so = tcp::to_syn_options(got);
            const tcp::local_settings ls;
            const tcp::negotiated p = tcp::negotiate_passive(so, ls);
            const tcp::negotiated a = tcp::negotiate_active(so, ls);
            const tcp::negotiated c = tcp::negotiate_passive(tcp::cookie_view(so), ls);
            for (const tcp::negotiated* x : {&p, &a, &c}) {
                if (x->mss < tcp::min_snd_mss || x->mss > ls.mss || x->snd_wscale > tcp::max_wscale ||
                    x->rcv_wscale > tcp::max_wscale || (!x->wscale_ok && (x->snd_wscale | x->rcv_wscale) != 0)) {
                    return "negotiation outside Linux's clamps";
                }
            }
            if (c.wscale_ok && !got.has_ts) {
                return "a cookie without timestamps negotiated window scaling";
            }
        }
    }
    return nullptr;
}

const char* config_one(const uint8_t* data, size_t size)
{
    std::vector<std::string> args;
    std::string cur;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(char(data[i]));
        }
    }
    args.push_back(cur);
    std::string ini_path;
    if (!args.empty() && !args[0].empty() && args[0][0] == '[') {
        char path[] = "/tmp/fg-fuzz-ini-XXXXXX";
        const int fd = mkstemp(path);
        if (fd < 0) {
            return nullptr; // cannot test the INI path here; not the parser's fault
        }
        const std::string& text = args[0];
        const bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
        close(fd);
        if (!ok) {
            unlink(path);
            return nullptr;
        }
        ini_path = path;
        args[0] = "--config=" + ini_path;
    }

    apps::common_options co;
    std::vector<apps::option> rows = apps::common_option_rows(co);
    uint64_t number = 0;
    double real = 0;
    std::vector<uint16_t> ports;
    rte_ether_addr mac{};
    bool flag = false;
    rows.push_back(apps::u64_option("count", "N", 1, 1u << 24, [&](uint64_t x) { number = x; }));
    rows.push_back({"rate", true, "R", [&](std::string_view v, std::string& e) { return apps::parse_double(v, 0, 1e9, real, e); }});
    rows.push_back({"listen", true, "PORTS", [&](std::string_view v, std::string& e) { return apps::parse_port_list(v, ports, e); }});
    rows.push_back({"mac", true, "MAC", [&](std::string_view v, std::string& e) { return apps::parse_mac(v, mac, e); }});
    rows.push_back({"flag", false, "", [&](std::string_view, std::string&) {
                        flag = true;
                        return true;
                    }});
    std::string error;
    const bool ok = apps::parse(rows, args, error);
    if (!ini_path.empty()) {
        unlink(ini_path.c_str());
    }
    if (!ok && error.empty()) {
        return "parse failed without saying why";
    }
    if (ok) {
        for (const route::addr_range& r : co.ips) {
            if (r.first > r.last || r.plen == 0 || r.plen > 32 || route::is_martian(r.first) ||
                route::is_martian(r.last)) {
                return "an address range the parser should have refused";
            }
        }
        if (co.mtu < 576 || co.mtu > 9000) {
            return "MTU out of range accepted";
        }
        for (uint16_t p : ports) {
            if (p == 0) {
                return "port 0 in a port list";
            }
        }
    }
    return nullptr;
}

} // namespace fg::fuzz
