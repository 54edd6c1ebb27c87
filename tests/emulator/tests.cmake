add_test(NAME emulator.patterns COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_patterns.py)
set_tests_properties(emulator.patterns PROPERTIES TIMEOUT 120)
add_test(NAME emulator.events COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_events.py)
set_tests_properties(emulator.events PROPERTIES TIMEOUT 120)
