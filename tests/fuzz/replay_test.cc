// fuzz-replay: every fuzz target's body, built with the project's compiler
// and run over its whole seed corpus (tests/fuzz/corpus-*/), so an input that
// once crashed a target stays a regression test in every CI build, with or
// without clang. Also runs the engine's built-in seed scripts and, with
// FG_WRITE_ENGINE_SEEDS=DIR, writes them there (how corpus-engine/ began).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine_fuzz.hh"
#include "options_fuzz.hh"

namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> slurp(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Runs `one` over every file of corpus directory `name`; at least `min_files`.
void replay(const char* name, const char* (*one)(const uint8_t*, size_t), size_t min_files)
{
    const fs::path dir = fs::path(FG_FUZZ_SOURCE_DIR) / name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) {
            continue;
        }
        const std::vector<uint8_t> data = slurp(e.path());
        const char* err = one(data.data(), data.size());
        EXPECT_EQ(err, nullptr) << e.path() << ": " << err;
        n++;
    }
    EXPECT_GE(n, min_files) << "corpus " << dir << " is (nearly) empty";
}

TEST(FuzzReplay, TcpOptionsCorpus) { replay("corpus-tcp-options", fg::fuzz::tcp_options_one, 4); }
TEST(FuzzReplay, ConfigCorpus) { replay("corpus-config", fg::fuzz::config_one, 4); }

TEST(FuzzReplay, EngineSeeds)
{
    std::string err;
    ASSERT_TRUE(fg::fuzz::engine_init(err)) << err;
    const char* out = std::getenv("FG_WRITE_ENGINE_SEEDS");
    for (unsigned i = 0; i < fg::fuzz::engine_seeds; i++) {
        const std::string s = fg::fuzz::engine_seed(i);
        const char* e = fg::fuzz::engine_one(reinterpret_cast<const uint8_t*>(s.data()), s.size());
        EXPECT_EQ(e, nullptr) << "seed " << i << ": " << e;
        if (out != nullptr) {
            std::ofstream f(fs::path(out) / ("seed-" + std::to_string(i)), std::ios::binary);
            f << s;
        }
    }
}

TEST(FuzzReplay, EngineCorpus)
{
    std::string err;
    ASSERT_TRUE(fg::fuzz::engine_init(err)) << err;
    replay("corpus-engine", fg::fuzz::engine_one, fg::fuzz::engine_seeds);
}

// The empty input and a truncated record are scripts too.
TEST(FuzzReplay, EngineEdges)
{
    std::string err;
    ASSERT_TRUE(fg::fuzz::engine_init(err)) << err;
    EXPECT_EQ(fg::fuzz::engine_one(nullptr, 0), nullptr);
    const uint8_t cut[] = {1, 3, 0x12};
    EXPECT_EQ(fg::fuzz::engine_one(cut, sizeof(cut)), nullptr);
}

} // namespace
