# What gets installed (tests/install/check.py): `version`, the man pages, the shell completions,
# the installed tree, and (label "package") the .deb and .tar.gz built from a Release build.
set(RDSBK_INSTALL_CHECK ${RDSBK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check.py)
add_test(NAME install.version
         COMMAND ${RDSBK_INSTALL_CHECK} version $<TARGET_FILE:rdsbk-provision> ${PROJECT_VERSION})
set_tests_properties(install.version PROPERTIES TIMEOUT 60)

add_test(NAME install.man
         COMMAND ${RDSBK_INSTALL_CHECK} man ${RDSBK_DOC_DIR}/rdsbk-provision.1
                 ${CMAKE_SOURCE_DIR}/docs/rdsbk-topology.5 $<TARGET_FILE:rdsbk-docgen>
                 $<TARGET_FILE:rdsbk-provision>)
add_test(NAME install.bash-completion
         COMMAND ${RDSBK_INSTALL_CHECK} bash ${RDSBK_DOC_DIR}/rdsbk-provision.bash
                 $<TARGET_FILE:rdsbk-provision>)
add_test(NAME install.zsh-completion
         COMMAND ${RDSBK_INSTALL_CHECK} zsh ${RDSBK_DOC_DIR}/rdsbk-provision.zsh
                 ${CMAKE_CURRENT_LIST_DIR}/zsh-complete.zsh $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(install.man install.bash-completion install.zsh-completion
                     PROPERTIES TIMEOUT 120)
set_tests_properties(install.zsh-completion PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME install.tree
         COMMAND ${RDSBK_INSTALL_CHECK} tree ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/examples
                 ${PROJECT_VERSION})
set_tests_properties(install.tree PROPERTIES TIMEOUT 120)

# The packages: a Release build of the tool alone (RDSBK_TESTS=OFF) in package-build/, cpack,
# then dpkg -I, dpkg -x and the .tar.gz checked. About 10 s on 2 cores from scratch, a few
# seconds once package-build/ exists.
add_test(NAME install.package
         COMMAND ${RDSBK_INSTALL_CHECK} package ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/package-build ${PROJECT_VERSION})
set_tests_properties(install.package PROPERTIES TIMEOUT 900 LABELS package PROCESSORS 2)
