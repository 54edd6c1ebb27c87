# The resource types (src/resources) against the local emulator, started by the test itself
# through tests/support/emu_harness.c.

add_executable(rdsbk-test-resources ${CMAKE_CURRENT_LIST_DIR}/test_resources.c
               ${CMAKE_SOURCE_DIR}/tests/support/emu_harness.c)
target_compile_options(rdsbk-test-resources PRIVATE ${RDSBK_WARNINGS})
target_include_directories(rdsbk-test-resources PRIVATE ${CMAKE_SOURCE_DIR}/src
                           ${CMAKE_SOURCE_DIR}/tests/support)
target_compile_definitions(rdsbk-test-resources PRIVATE
  RDSBK_SOURCE_DIR="${CMAKE_SOURCE_DIR}" RDSBK_PYTHON="${RDSBK_PYTHON}"
  _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
target_link_libraries(rdsbk-test-resources PRIVATE rdsbk PkgConfig::CMOCKA)
add_test(NAME resources.emulator COMMAND rdsbk-test-resources)
set_tests_properties(resources.emulator PROPERTIES TIMEOUT 300)
