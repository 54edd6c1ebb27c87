add_test(NAME emulator.patterns COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_patterns.py)
set_tests_properties(emulator.patterns PROPERTIES TIMEOUT 120)
