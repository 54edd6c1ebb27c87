# Reliability and security suites (tests/reliability/*.py): the real binary against the bundled
# emulator. CTest runs the short versions (about 3-4 minutes in all); `--long` runs the long
# ones by hand (see docs/RELIABILITY.md).
foreach(suite faults lost_replies crashes concurrency state_damage secrets endpoints
              least_privilege)
  add_test(NAME reliability.${suite}
           COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/${suite}.py
                   $<TARGET_FILE:rdsbk-provision>)
  set_tests_properties(reliability.${suite} PROPERTIES
                       TIMEOUT 300 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endforeach()
