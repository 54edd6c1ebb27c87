# The engine end to end: the real binary against the local emulator (plan/apply/destroy, drift,
# topology edits, saved plans, the lock, SIGKILL during apply, destroy --discover).
add_test(NAME engine.e2e
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_engine.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(engine.e2e PROPERTIES TIMEOUT 600 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
