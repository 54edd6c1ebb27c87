# Lambda handlers (Python, botocore Stubber) and their deterministic deployment zips.
set(RDSBK_LAMBDA_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})

add_test(NAME lambda.handlers
         COMMAND ${RDSBK_PYTHON} ${RDSBK_LAMBDA_TEST_DIR}/test_handlers.py)
set_tests_properties(lambda.handlers PROPERTIES TIMEOUT 120
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

add_executable(write_lambda_zip ${RDSBK_LAMBDA_TEST_DIR}/write_lambda_zip.c)
target_compile_options(write_lambda_zip PRIVATE ${RDSBK_WARNINGS})
target_link_libraries(write_lambda_zip PRIVATE rdsbk)

add_test(NAME lambda.zips
         COMMAND ${RDSBK_PYTHON} ${RDSBK_LAMBDA_TEST_DIR}/check_zips.py
                 $<TARGET_FILE:write_lambda_zip> ${CMAKE_SOURCE_DIR}/templates/lambda)
set_tests_properties(lambda.zips PROPERTIES TIMEOUT 120 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

add_test(NAME lambda.sweep_emulator
         COMMAND ${RDSBK_PYTHON} ${RDSBK_LAMBDA_TEST_DIR}/test_sweep_emulator.py)
set_tests_properties(lambda.sweep_emulator PROPERTIES TIMEOUT 180
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

add_test(NAME lambda.unencrypted_cluster_emulator
         COMMAND ${RDSBK_PYTHON} ${RDSBK_LAMBDA_TEST_DIR}/test_unencrypted_cluster_emulator.py)
set_tests_properties(lambda.unencrypted_cluster_emulator PROPERTIES TIMEOUT 180
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
