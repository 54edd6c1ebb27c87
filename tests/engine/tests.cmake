# The engine end to end: the real binary against the local emulator (plan/apply/destroy, drift,
# topology edits, saved plans, the lock, SIGKILL during apply, destroy --discover).
add_test(NAME engine.e2e
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_engine.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(engine.e2e PROPERTIES TIMEOUT 600 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

# The engine as a library, driven through its callbacks (events, confirm, cancel) against the
# emulator, which the test starts itself (tests/support/emu_harness.c).
rdsbk_emulator_test(engine.callbacks rdsbk-test-engine-callbacks
                    ${CMAKE_CURRENT_LIST_DIR}/test_engine_callbacks.c)

# Retention over 120 emulated days: the pipeline deletes its own old copies and stays inside RDS's
# manual snapshot quotas; what it did not make survives.
add_test(NAME engine.retention
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_retention.py
                 $<TARGET_FILE:rdsbk-provision>)
# the longest test: started first, so that the others run beside it
set_tests_properties(engine.retention PROPERTIES TIMEOUT 900 COST 10000
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

# Reconciliation in emulated time: lost events made up for by the sweeps, 30 databases through
# RDS's limit of 20 cross-Region copies in flight.
add_test(NAME engine.reconcile
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_reconcile.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(engine.reconcile PROPERTIES TIMEOUT 600 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

# Organisation mode: the backup side admits an AWS Organizations organisation, so that a source
# account added later changes nothing in the backup account.
add_test(NAME engine.organization
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_organization.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(engine.organization PROPERTIES TIMEOUT 600
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
