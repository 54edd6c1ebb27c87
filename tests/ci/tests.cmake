# The CI recipes of examples/ci: each job's shell run against the emulator, the state in its S3.
add_test(NAME ci.recipes
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_recipes.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(ci.recipes PROPERTIES TIMEOUT 300 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
