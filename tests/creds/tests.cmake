# Credentials: the chain compared with botocore's (the AWS CLI's) on the same files and
# environment, against the local fake STS / container / IMDS server.
add_executable(rdsbk-creds-probe ${CMAKE_CURRENT_LIST_DIR}/probe.c)
target_compile_options(rdsbk-creds-probe PRIVATE ${RDSBK_WARNINGS})
target_link_libraries(rdsbk-creds-probe PRIVATE rdsbk)

add_test(NAME creds.compare_botocore
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/compare_botocore.py
                 $<TARGET_FILE:rdsbk-creds-probe>)
set_tests_properties(creds.compare_botocore PROPERTIES TIMEOUT 180)
