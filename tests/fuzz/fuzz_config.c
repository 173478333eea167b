/* Fuzz harness for the configuration loader: ${VAR} expansion, YAML, schema walk, validation (input format and
 * checks in fuzz_config_one.h). config.h has no config.c of its own, so scripts/fuzz is told the module's entry
 * points (the files they include bring the rest) and libyaml on these lines:
 * fuzz-build: src/config/config_load.c src/config/config_errors.c src/config/config_validate.c
 * fuzz-build: src/config/config_field.c -lyaml
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_config_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_config", fuzz_config_one, fuzz_config_run_file,
                                              FUZZ_CONFIG_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
