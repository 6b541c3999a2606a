#include "tcp/negotiate.hh"

#include <bit>

namespace fg::tcp {

namespace {
constexpr uint32_t ip_tcp_headers = 40;   // IPv4 + TCP headers without options
constexpr uint32_t min_advmss = 256;      // Linux ip_rt_min_advmss
constexpr uint32_t max_advmss = 65535 - 40; // Linux IPV4_MAX_PMTU - 40
} // namespace

uint16_t advmss_for_mtu(uint32_t mtu)
{
    const uint32_t mss = mtu > ip_tcp_headers ? mtu - ip_tcp_headers : 0;
    return uint16_t(std::clamp(mss, min_advmss, max_advmss));
}

uint8_t wscale_for_space(uint32_t space)
{
    if (space == 0) {
        return 0;
    }
    const int log2 = 31 - std::countl_zero(space);
    return uint8_t(std::clamp(log2 - 15, 0, int(max_wscale)));
}

syn_options syn_options_for(const local_settings& s, uint32_t tsval)
{
    syn_options o;
    o.has_mss = true;
    o.mss = s.mss;
    o.has_wscale = s.window_scaling;
    o.wscale = s.window_scaling ? std::min(s.rcv_wscale, max_wscale) : 0;
    o.sack_ok = s.sack;
    o.has_ts = s.timestamps;
    o.ts_val = s.timestamps ? tsval : 0;
    o.ts_ecr = 0;
    return o;
}

negotiated negotiate_active(const syn_options& synack, const local_settings& s)
{
    negotiated n;
    n.mss = send_mss(peer_mss(synack), s.mss);
    // RFC 7323 §2.2: scaling only if both SYNs carried the option. We sent it
    // iff s.window_scaling.
    n.wscale_ok = s.window_scaling && synack.has_wscale;
    if (n.wscale_ok) {
        n.snd_wscale = std::min(synack.wscale, max_wscale);
        n.rcv_wscale = std::min(s.rcv_wscale, max_wscale);
        n.window_clamp = s.rcv_wnd;
    } else {
        n.window_clamp = std::min(s.rcv_wnd, max_unscaled_window);
    }
    n.sack_ok = s.sack && synack.sack_ok;
    // RFC 7323 §3.2: timestamps in a SYN-ACK to a SYN without them are ignored.
    n.ts_ok = s.timestamps && synack.has_ts;
    n.ts_recent = n.ts_ok ? synack.ts_val : 0;
    return n;
}

} // namespace fg::tcp
