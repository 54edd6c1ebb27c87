# The README's options table against the commands' own --help.
add_test(NAME cli.readme_options
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_readme_options.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(cli.readme_options PROPERTIES TIMEOUT 60)
