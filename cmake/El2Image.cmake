# Helpers for EL2 images and the QEMU scenarios that run them.
#
#   arm_add_el2_image(name sources...)      an ELF image that boots at EL2 on QEMU virt
#   arm_add_qemu_scenario(name sources...)  the same, plus a ctest test (label qemu) that
#                                           runs it and passes only on exit status 0
# Options of arm_add_qemu_scenario: SMP n, TIMEOUT seconds, QEMU_ARGS ..., LABELS ...
set(ARM_QEMU_RUN ${PROJECT_SOURCE_DIR}/tools/run-qemu CACHE INTERNAL "")

function(arm_add_el2_image name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE arm_vcpu arm_el2_boot)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS ${ARM_EL2_LINKER_SCRIPT})
  set_property(GLOBAL APPEND PROPERTY ARM_EL2_IMAGES ${name})
endfunction()

# A test (label image) that checks every EL2 image of the project for FP/SIMD
# instructions outside the FP context switch (tools/check-no-fp). Call once, last.
function(arm_add_image_checks)
  get_property(images GLOBAL PROPERTY ARM_EL2_IMAGES)
  set(files "")
  foreach(image IN LISTS images)
    list(APPEND files $<TARGET_FILE:${image}>)
  endforeach()
  add_test(NAME el2_images_use_no_fp
    COMMAND ${PROJECT_SOURCE_DIR}/tools/check-no-fp llvm-objdump${ARM_LLVM_SUFFIX} ${files})
  set_tests_properties(el2_images_use_no_fp PROPERTIES LABELS image)
endfunction()

function(arm_add_qemu_scenario name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SMP;TIMEOUT" "QEMU_ARGS;LABELS")
  arm_add_el2_image(${name} ${arg_UNPARSED_ARGUMENTS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/qemu)
  if(NOT arg_SMP)
    set(arg_SMP 1)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 30)
  endif()
  add_test(NAME qemu_${name}
    COMMAND ${ARM_QEMU_RUN} --timeout ${arg_TIMEOUT} --smp ${arg_SMP} $<TARGET_FILE:${name}> ${arg_QEMU_ARGS})
  set_tests_properties(qemu_${name} PROPERTIES LABELS "qemu;${arg_LABELS}" TIMEOUT ${arg_TIMEOUT})
endfunction()
