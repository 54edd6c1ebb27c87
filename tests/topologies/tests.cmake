# Topology validation through the real binary: every bad file gives its exact messages and exit 1;
# every example validates.
add_test(NAME topology.bad
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/check-bad.sh $<TARGET_FILE:rdsbk-provision>)
set_tests_properties(topology.bad PROPERTIES TIMEOUT 120)
file(GLOB RDSBK_EXAMPLES ${CMAKE_SOURCE_DIR}/examples/*.yaml)
foreach(example ${RDSBK_EXAMPLES})
  get_filename_component(name ${example} NAME_WE)
  add_test(NAME topology.example.${name}
           COMMAND $<TARGET_FILE:rdsbk-provision> validate -f ${example})
  set_tests_properties(topology.example.${name} PROPERTIES TIMEOUT 60)
endforeach()
