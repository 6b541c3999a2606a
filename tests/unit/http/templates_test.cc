// What the HTTP client and server send, read back by the parsers: every
// server template is a well-formed response with the right Content-Length
// and persistence, HEAD templates are exactly the heads, the 400 closes; the
// client's request is a well-formed HTTP/1.1 request with Host.
#include <string>

#include <gtest/gtest.h>

#include <rte_byteorder.h>

#include "http/client.hh"
#include "http/group.hh"
#include "http/request.hh"
#include "http/response.hh"
#include "http/server.hh"

namespace fg::http {
namespace {

std::string str(const tcp::tx_template& t) { return std::string(reinterpret_cast<const char*>(t.data), t.len); }

TEST(Templates, ServerResponsesParse)
{
    server_config cfg;
    cfg.body = generated_body(5000);
    server_templates t;
    std::string err;
    ASSERT_TRUE(t.build(cfg, err)) << err;
    ASSERT_EQ(t.templates().size(), size_t(server_templates::count));
    struct want {
        server_templates::which w;
        uint16_t status;
        bool close;
        bool body;
    };
    const want cases[] = {
        {server_templates::ok_keep, 200, false, true},      {server_templates::ok_close, 200, true, true},
        {server_templates::ok_keep10, 200, false, true},    {server_templates::bad_request, 400, true, true},
    };
    for (const want& c : cases) {
        const std::string r = str(t.templates()[c.w]);
        response_parser p;
        parse_status st;
        EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size()), st), r.size());
        EXPECT_EQ(st, parse_status::done) << r.substr(0, 80);
        EXPECT_EQ(p.status(), c.status);
        EXPECT_EQ(p.close(), c.close);
    }
    // The 200s end with the body; HEAD templates are their heads exactly.
    for (int i = 0; i < 3; i++) {
        const std::string full = str(t.templates()[server_templates::ok_keep + i]);
        const std::string head = str(t.templates()[server_templates::head_keep + i]);
        EXPECT_EQ(full, head + cfg.body);
        EXPECT_NE(head.find("Content-Length: 5000\r\n"), std::string::npos);
        EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
    }
    EXPECT_NE(str(t.templates()[server_templates::ok_keep10]).find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(Templates, ClientRequestParses)
{
    client_config cfg;
    cfg.path = "/index.html?x=1";
    cfg.targets = {tuple4{0, rte_cpu_to_be_32((198u << 24) | (18u << 16) | 1), 0, rte_cpu_to_be_16(8080)},
                   tuple4{0, rte_cpu_to_be_32((198u << 24) | (18u << 16) | 2), 0, rte_cpu_to_be_16(80)}};
    client_templates t;
    std::string err;
    ASSERT_TRUE(t.build(cfg, err)) << err;
    ASSERT_EQ(t.templates().size(), 2u);
    const std::string a = str(t.templates()[0]);
    const std::string b = str(t.templates()[1]);
    EXPECT_EQ(a.substr(0, a.find("\r\n")), "GET /index.html?x=1 HTTP/1.1");
    EXPECT_NE(a.find("\r\nHost: 198.18.0.1:8080\r\n"), std::string::npos);
    EXPECT_NE(b.find("\r\nHost: 198.18.0.2\r\n"), std::string::npos); // port 80 is the default: not written
    for (const std::string& r : {a, b}) {
        request_parser p;
        parse_status st;
        EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size()), 8192, st), r.size());
        EXPECT_EQ(st, parse_status::done);
        EXPECT_TRUE(p.keep_alive());
        EXPECT_FALSE(p.http10());
    }
}

TEST(Templates, BadPathsRefused)
{
    client_config cfg;
    cfg.targets = {tuple4{0, 1, 0, 1}};
    client_templates t;
    std::string err;
    for (const char* p : {"", "index.html", "/a b", "/a\r\nX: y"}) {
        cfg.path = p;
        EXPECT_FALSE(t.build(cfg, err)) << p;
    }
}

TEST(Templates, GeneratedBody)
{
    EXPECT_EQ(generated_body(0), "");
    EXPECT_EQ(generated_body(1), "\n");
    const std::string b = generated_body(1000);
    EXPECT_EQ(b.size(), 1000u);
    EXPECT_EQ(b.back(), '\n');
    for (char c : b) {
        EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f));
    }
}

} // namespace
} // namespace fg::http
