# cmake --install BUILD [--prefix P]: the binary, both manual pages, the bash and zsh completions,
# the examples and the README, in the GNU directories under the prefix.
include(GNUInstallDirs)
install(TARGETS rdsbk-provision RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# the topology's JSON Schema, where `init` points editors at it (RDSBK_SCHEMA_LOCATION)
install(FILES ${CMAKE_SOURCE_DIR}/schema/topology.schema.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/rdsbk-provision)
install(FILES ${RDSBK_DOC_DIR}/rdsbk-provision.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/docs/rdsbk-topology.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
# Where bash-completion and zsh look for a command's completion: the file named after it
install(FILES ${RDSBK_DOC_DIR}/rdsbk-provision.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME rdsbk-provision)
# zsh's own fpath has PREFIX/share/zsh/site-functions, but Debian's zsh reads packages' completions
# from /usr/share/zsh/vendor-completions and not /usr/share/zsh/site-functions: with the prefix
# /usr (a .deb's), the former.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(RDSBK_ZSH_DIR_DEFAULT share/zsh/vendor-completions)
else()
  set(RDSBK_ZSH_DIR_DEFAULT ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()
set(RDSBK_ZSH_COMPLETION_DIR ${RDSBK_ZSH_DIR_DEFAULT}
    CACHE STRING "Where the zsh completion is installed, under the prefix")
install(FILES ${RDSBK_DOC_DIR}/rdsbk-provision.zsh DESTINATION ${RDSBK_ZSH_COMPLETION_DIR}
        RENAME _rdsbk-provision)
file(GLOB RDSBK_EXAMPLE_FILES ${CMAKE_SOURCE_DIR}/examples/*.yaml)
install(FILES ${RDSBK_EXAMPLE_FILES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ci DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
