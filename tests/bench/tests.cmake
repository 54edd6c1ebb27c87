# The benchmark harness (bench/run.py) on one cycle of one source with no emulated latency: it
# fails when a workload fails, when the no-op plan reports changes or makes a mutating call,
# when the change makes none, or when a call cannot be attributed to a resource of the graph.
add_test(NAME bench.smoke
         COMMAND ${RDSBK_PYTHON} ${CMAKE_SOURCE_DIR}/bench/run.py --quick --latency-ms 0
                 --runs 1 --sources 1 --bin $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(bench.smoke PROPERTIES TIMEOUT 240 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

# The bench's emulator front (bench/emu_server.py --front asyncio), checked with botocore: replies
# `latency` after the request arrived, requests answered side by side, the request log's time and
# end, keep-alive, chunked bodies, Expect: 100-continue, reset and hang faults; --front threads
# still serves.
add_test(NAME bench.emu_front COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_emu_front.py)
set_tests_properties(bench.emu_front PROPERTIES TIMEOUT 120
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;AWS_EC2_METADATA_DISABLED=true")
