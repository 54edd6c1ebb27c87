# The manual pages and shell completions, in ${RDSBK_DOC_DIR}: rdsbk-provision.1 and the
# completions are written by rdsbk-docgen from the command tables; rdsbk-topology.5 is written by
# hand (docs/), and a test holds it to the parser's keys (tests/install).
set(RDSBK_DOC_DIR ${CMAKE_BINARY_DIR}/doc)
file(MAKE_DIRECTORY ${RDSBK_DOC_DIR})

# The page's date: the last commit's, so that a rebuild writes the same page; else today, or
# SOURCE_DATE_EPOCH's (string(TIMESTAMP) reads it).
set(RDSBK_DOC_DATE "")
if(RDSBK_GIT)
  execute_process(COMMAND ${RDSBK_GIT} -C ${CMAKE_SOURCE_DIR} log -1 --format=%cs
                  OUTPUT_VARIABLE RDSBK_DOC_DATE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT RDSBK_DOC_DATE MATCHES "^[0-9]+-[0-9]+-[0-9]+$")
  string(TIMESTAMP RDSBK_DOC_DATE "%Y-%m-%d" UTC)
endif()

add_custom_command(
  OUTPUT ${RDSBK_DOC_DIR}/rdsbk-provision.1
  COMMAND rdsbk-docgen man ${RDSBK_DOC_DATE} ${RDSBK_DOC_DIR}/rdsbk-provision.1
  DEPENDS rdsbk-docgen
  COMMENT "Writing rdsbk-provision.1"
  VERBATIM)
foreach(shell bash zsh)
  set(file ${RDSBK_DOC_DIR}/rdsbk-provision.${shell})
  add_custom_command(
    OUTPUT ${file}
    COMMAND rdsbk-docgen ${shell} ${file}
    DEPENDS rdsbk-docgen
    COMMENT "Writing the ${shell} completion"
    VERBATIM)
endforeach()
add_custom_target(
  rdsbk-docs ALL DEPENDS ${RDSBK_DOC_DIR}/rdsbk-provision.1 ${RDSBK_DOC_DIR}/rdsbk-provision.bash
                         ${RDSBK_DOC_DIR}/rdsbk-provision.zsh)
