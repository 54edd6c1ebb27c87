#ifndef RDSBK_ENV_H
#define RDSBK_ENV_H

/*
 * The tool's tuning variables (README, "Environment"): the value of `name` when it is an integer
 * in 1..max; 0 when it is unset or empty. Any other value is ignored with a warning, so that a
 * typo is seen and the default holds.
 */
long rdsbk_env_positive(const char *name, long max);

#endif
