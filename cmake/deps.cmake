# Every dependency comes from pkg-config; a missing one stops configure with one line that names the
# Debian package providing it.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(rdsbk_require name module debian_package)
  pkg_check_modules(${name} QUIET IMPORTED_TARGET ${module})
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debian_package}")
  endif()
endfunction()

rdsbk_require(CURL libcurl libcurl4-openssl-dev)
rdsbk_require(CRYPTO libcrypto libssl-dev)
rdsbk_require(YAML yaml-0.1 libyaml-dev)
rdsbk_require(CJSON libcjson libcjson-dev)
rdsbk_require(XML2 libxml-2.0 libxml2-dev)
rdsbk_require(ZLIB zlib zlib1g-dev)
if(RDSBK_TESTS)
  rdsbk_require(CMOCKA cmocka libcmocka-dev)
endif()

# libcurl must be the OpenSSL flavour: TLS sessions are shared across threads through its share
# interface, and the GnuTLS and NSS builds behave differently there.
execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --static --libs libcurl
                OUTPUT_VARIABLE _curl_static_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _curl_static_libs MATCHES "-lssl")
  message(FATAL_ERROR "libcurl is not the OpenSSL flavour: apt-get install libcurl4-openssl-dev")
endif()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
