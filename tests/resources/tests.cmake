# The resource types (src/resources) against the local emulator, started by the test itself
# through tests/support/emu_harness.c.
rdsbk_emulator_test(resources.emulator rdsbk-test-resources
                    ${CMAKE_CURRENT_LIST_DIR}/test_resources.c)
