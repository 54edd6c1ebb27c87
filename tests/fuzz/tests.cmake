# Hostile input: the fuzz targets (tests/fuzz/fuzz_<target>.c) replayed over their committed
# corpora with the project's compiler and sanitizers, so the corpus stays crash-free. Fuzzing
# itself (libFuzzer, clang) is tests/fuzz/run.sh, not part of CTest.
foreach(target topology xml json state)
  add_executable(rdsbk-fuzz-replay-${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.c
                 ${CMAKE_CURRENT_LIST_DIR}/replay.c)
  target_compile_options(rdsbk-fuzz-replay-${target} PRIVATE ${RDSBK_WARNINGS})
  target_compile_definitions(rdsbk-fuzz-replay-${target} PRIVATE _POSIX_C_SOURCE=200809L
                             _DEFAULT_SOURCE)
  target_link_libraries(rdsbk-fuzz-replay-${target} PRIVATE rdsbk)
  add_test(NAME fuzz.corpus.${target}
           COMMAND rdsbk-fuzz-replay-${target} ${CMAKE_CURRENT_LIST_DIR}/corpus/${target})
  set_tests_properties(fuzz.corpus.${target} PROPERTIES TIMEOUT 120)
endforeach()
