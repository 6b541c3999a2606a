// gtest main for tests that need EAL memory (rte_lpm): --no-huge so it runs
// anywhere, --no-shconf so parallel test processes do not share state.
#include <gtest/gtest.h>

#include <rte_eal.h>

int main(int argc, char** argv)
{
    testing::InitGoogleTest(&argc, argv);
    const char* eal_args[] = {"unit-route", "--no-huge", "--no-shconf", "--no-pci", "-m",
                              "128",        "--log-level=error", "-l", "0"};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        fprintf(stderr, "unit-route-eal: rte_eal_init failed\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
