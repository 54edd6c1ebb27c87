# `generate`: deterministic output; every JSON parses; every pattern accepted by TestEventPattern.
add_test(NAME generate.artefacts
         COMMAND ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_generate.py
                 $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(generate.artefacts PROPERTIES TIMEOUT 180
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
