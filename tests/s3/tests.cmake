# The S3 client (src/services/s3.c, restXml) against the local emulator.
rdsbk_emulator_test(s3.emulator rdsbk-test-s3 ${CMAKE_CURRENT_LIST_DIR}/test_s3.c)
