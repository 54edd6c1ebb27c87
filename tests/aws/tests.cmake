# The AWS wire level: SigV4 against botocore, and the transport against a scripted local server.

add_executable(rdsbk-sigv4-sign ${CMAKE_CURRENT_LIST_DIR}/sigv4_sign_cases.c)
target_compile_options(rdsbk-sigv4-sign PRIVATE ${RDSBK_WARNINGS})
target_compile_definitions(rdsbk-sigv4-sign PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(rdsbk-sigv4-sign PRIVATE rdsbk)

# 600 requests, fixed seed, byte-identical Authorization headers with botocore's SigV4Auth.
add_test(NAME aws.sigv4_differential
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/sigv4_differential.py
                 $<TARGET_FILE:rdsbk-sigv4-sign>)
set_tests_properties(aws.sigv4_differential PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
