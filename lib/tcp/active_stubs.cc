// Placeholders for the active side's engine members (declared in engine.hh),
// so the frame links before connect.cc, synsent.cc and active_close.cc exist.
//
// HANDOVER: this file belongs to the active helper from the frame commit on.
// When you implement one of these functions in your own file, delete its
// stub here in the same commit (and drop this file from lib/tcp/meson.build
// once it is empty). The passive helper does not touch it again.
#include "tcp/engine.hh"

namespace fg::tcp {

bool engine::init_active(std::string& error)
{
    (void)error;
    return true;
}

void engine::fini_active() {}

void engine::cmd_connect(const cmd& k)
{
    (void)k;
    _ctr.inc(ctr::bad_command);
}

void engine::on_syn_sent(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    on_unhandled(c, slot, m, pi);
}

void engine::on_fin_wait_1(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    on_unhandled(c, slot, m, pi);
}

void engine::on_fin_wait_2(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    on_unhandled(c, slot, m, pi);
}

void engine::on_closing(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    on_unhandled(c, slot, m, pi);
}

void engine::on_time_wait(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    on_unhandled(c, slot, m, pi);
}

void engine::on_timer_active(conn& c, uint32_t slot)
{
    // FIN-WAIT-1 / CLOSING retransmit our FIN like LAST-ACK; the rest has no timer yet.
    if (c.st == state::fin_wait_1 || c.st == state::closing) {
        on_fin_timer(c, slot);
    }
}

} // namespace fg::tcp
