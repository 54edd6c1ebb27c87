# schema/topology.schema.json against the parser: every topology of the suite and the generated
# cases judged by both (tests/schema/test_schema.py).
add_test(NAME schema.agreement
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_schema.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(schema.agreement PROPERTIES TIMEOUT 300)
