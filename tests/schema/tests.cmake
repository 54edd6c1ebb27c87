# schema/topology.schema.json against the parser: every topology of the suite and the generated
# cases judged by both (tests/schema/test_schema.py).
add_test(NAME schema.agreement
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_schema.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(schema.agreement PROPERTIES TIMEOUT 300)

# init: the starter topology it writes passes validate and the schema; refusals and questions.
add_test(NAME schema.init
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_init.py
                 $<TARGET_FILE:rdsbk-provision> ${RDSBK_SCHEMA_LOCATION})
set_tests_properties(schema.init PROPERTIES TIMEOUT 120)
