# Installs the library as a CMake package: find_package(ArmVcpu CONFIG) in another project
# gives ArmVcpu::arm_vcpu (the modules) and, in aarch64 builds, ArmVcpu::arm_el2_boot.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ARM_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ArmVcpu)
set(_arm_install_targets arm_runtime arm_vcpu)
if(ARM_EL2_BUILD)
  list(APPEND _arm_install_targets arm_el2_boot)
  install(FILES ${ARM_EL2_LINKER_SCRIPT} DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

install(TARGETS ${_arm_install_targets}
  EXPORT ArmVcpuTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET CXX_MODULES DESTINATION ${CMAKE_INSTALL_LIBDIR}/armvcpu/modules
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES modules/sysreg/sysregs.def DESTINATION ${CMAKE_INSTALL_LIBDIR}/armvcpu/modules/sysreg)
install(EXPORT ArmVcpuTargets
  NAMESPACE ArmVcpu::
  DESTINATION ${ARM_PACKAGE_DIR}
  CXX_MODULES_DIRECTORY cxx-modules)

configure_package_config_file(cmake/ArmVcpuConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ArmVcpuConfig.cmake INSTALL_DESTINATION ${ARM_PACKAGE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ArmVcpuConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ArmVcpuConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ArmVcpuConfigVersion.cmake
  DESTINATION ${ARM_PACKAGE_DIR})
