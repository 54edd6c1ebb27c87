# cpack -G DEB / -G TGZ, from what cmake/install.cmake installs. The .deb installs under /usr
# (CPackDeb's default prefix) and its Depends are found by dpkg-shlibdeps (dpkg-dev) from the
# libraries the binary links, plus ca-certificates for HTTPS; the .tar.gz holds bin/ and share/
# under one top directory. tests/install (install.package) builds and checks both.
set(CPACK_PACKAGE_NAME rdsbk-provision)
set(CPACK_PACKAGE_VENDOR rdsbk-provision)
set(CPACK_PACKAGE_CONTACT "rdsbk-provision maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "copies RDS snapshots across Regions into a backup account (plan/apply/destroy)")
set(CPACK_PACKAGE_DESCRIPTION
    "rdsbk-provision builds, from one small YAML file, the event-driven pipeline that copies every
new RDS system snapshot to a second Region and on into a separate backup account, re-encrypted
with a KMS key the backup account owns, and keeps it in shape with plan, apply and destroy.")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")
include(CPack)
