# What gets installed (tests/install/check.py): `version`, the man pages, the shell completions,
# the installed tree, and (label "package") the .deb and .tar.gz built from a Release build.
set(RDSBK_INSTALL_CHECK ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check.py)
add_test(NAME install.version
         COMMAND ${RDSBK_INSTALL_CHECK} version $<TARGET_FILE:rdsbk-provision> ${PROJECT_VERSION})
set_tests_properties(install.version PROPERTIES TIMEOUT 60)
