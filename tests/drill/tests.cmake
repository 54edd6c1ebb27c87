# Proving the backups arrive: the pipeline end to end against the emulator (every snapshot lands
# where it should, fan-in, duplicates, out-of-band damage and repair), `status` and `drill`
# (restore test, cleanup, timeout, Ctrl-C).
add_test(NAME drill.e2e
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_drill.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(drill.e2e PROPERTIES TIMEOUT 600 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
