# The state in S3 end to end: the real binary against the emulator's S3 (locking, guarded writes,
# SIGKILL during apply, destroy from a fresh directory, migrate, pull/push, bucket errors).
add_test(NAME state.s3
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_remote_state.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(state.s3 PROPERTIES TIMEOUT 900 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
