#ifndef RDSBK_FUZZ_H
#define RDSBK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The libFuzzer entry point each tests/fuzz/fuzz_<target>.c defines: feeds one input to the
 * parser under test. Must not crash, leak or hang on any input; returns 0. `data` is borrowed
 * and not NUL-terminated.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
